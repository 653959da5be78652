/* test_glob.c: unit tests of core/glob.c, the glob matcher: each syntax
 * element, case folding, agreement with fnmatch(3) on random patterns, and
 * bounded work on patterns that make naive matchers explode. */
#include <check.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/glob.h"
#include "tests/unit/fake/check_suite.h"

static int gm(const char *pattern, const char *string)
{
    return glob_match(pattern, strlen(pattern), string, strlen(string), 0);
}

static int gm_nocase(const char *pattern, const char *string)
{
    return glob_match(pattern, strlen(pattern), string, strlen(string), 1);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_literal)
{
    ck_assert(gm("hello", "hello"));
    ck_assert(!gm("hello", "hellO"));
    ck_assert(!gm("hello", "hell"));
    ck_assert(!gm("hell", "hello"));
    ck_assert(gm("", ""));
    ck_assert(!gm("", "a"));
    ck_assert(gm_nocase("HeLLo", "hello"));
}
END_TEST

START_TEST(test_star)
{
    ck_assert(gm("*", ""));
    ck_assert(gm("*", "anything"));
    ck_assert(gm("h*o", "ho"));
    ck_assert(gm("h*o", "hello"));
    ck_assert(!gm("h*o", "hella"));
    ck_assert(gm("*max*", "maxmemory"));
    ck_assert(gm("*max*", "proto-max-bulk-len"));
    ck_assert(!gm("*max*", "port"));
    ck_assert(gm("a**b", "ab"));
    ck_assert(gm("*a*b*c*", "xxaxxbxxcxx"));
    ck_assert(!gm("*a*b*c*", "xxcxxbxxaxx"));
    ck_assert(gm("*ab", "aab"));
    ck_assert(gm("*aab", "aaab"));
}
END_TEST

START_TEST(test_question)
{
    ck_assert(gm("h?llo", "hello"));
    ck_assert(gm("h?llo", "hallo"));
    ck_assert(!gm("h?llo", "hllo"));
    ck_assert(gm("???", "abc"));
    ck_assert(!gm("???", "ab"));
    ck_assert(gm("*?", "a"));
    ck_assert(!gm("*?", ""));
}
END_TEST

START_TEST(test_sets)
{
    ck_assert(gm("h[ae]llo", "hello"));
    ck_assert(gm("h[ae]llo", "hallo"));
    ck_assert(!gm("h[ae]llo", "hillo"));
    ck_assert(gm("h[^e]llo", "hallo"));
    ck_assert(!gm("h[^e]llo", "hello"));
    ck_assert(gm("h[a-b]llo", "hbllo"));
    ck_assert(!gm("h[a-b]llo", "hcllo"));
    ck_assert(gm("h[b-a]llo", "hallo")); /* reversed ranges work too */
    ck_assert(gm("[0-9][0-9]", "42"));
    ck_assert(!gm("[0-9][0-9]", "4x"));
    ck_assert(gm("[\\]]", "]"));
    ck_assert(gm("[a\\-z]", "-"));
    ck_assert(!gm("[a\\-z]", "b"));
    ck_assert(!gm("[]", "a"));
    ck_assert(gm("[abc", "b")); /* an unclosed set ends with the pattern */
    ck_assert(gm_nocase("[A-C]x", "bX"));
    ck_assert(gm_nocase("[a-c]x", "BX"));
    ck_assert(!gm("[A-C]x", "bx"));
}
END_TEST

START_TEST(test_escapes)
{
    ck_assert(gm("\\*", "*"));
    ck_assert(!gm("\\*", "a"));
    ck_assert(gm("a\\?c", "a?c"));
    ck_assert(!gm("a\\?c", "abc"));
    ck_assert(gm("\\[x]", "[x]"));
    ck_assert(gm("ab\\", "ab\\")); /* a trailing backslash is literal */
    ck_assert(!gm("ab\\", "abc"));
}
END_TEST

START_TEST(test_binary)
{
    const char string[] = {'a', '\0', 'b'};
    ck_assert(glob_match("a?b", 3, string, 3, 0));
    ck_assert(glob_match("a*", 2, string, 3, 0));
    ck_assert(!glob_match("a", 1, string, 3, 0));
}
END_TEST

/* Random patterns over a small alphabet must agree with fnmatch(3). */
START_TEST(test_agrees_with_fnmatch)
{
    static const char *elements[] = {"a", "b", "*", "?", "[ab]", "[^a]", "[a-b]", "\\a"};
    const int nelements = (int)(sizeof(elements) / sizeof(elements[0]));
    srand(12345);
    for (int round = 0; round < 20000; round++) {
        char pattern[64] = "", string[16];
        int plen = rand() % 6, slen = rand() % 8;
        for (int i = 0; i < plen; i++) strcat(pattern, elements[rand() % nelements]);
        for (int i = 0; i < slen; i++) string[i] = "abc"[rand() % 3];
        string[slen] = '\0';
        int expected = fnmatch(pattern, string, 0) == 0;
        ck_assert_msg(gm(pattern, string) == expected, "pattern '%s' string '%s': expected %d",
                      pattern, string, expected);
    }
}
END_TEST

START_TEST(test_pathological_is_fast)
{
    const size_t len = 1 << 20;
    char *s = malloc(len);
    memset(s, 'a', len);
    const char *patterns[] = {
        "a*a*a*a*a*a*a*a*a*a*a*b",
        "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
        "a*a*a*a*a*a*a*a*a*a*a*[b]*",
        "*?*?*?*?*?*?*?*?*?*?*?*?b",
    };
    double start = now_seconds();
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
        ck_assert(!glob_match(patterns[i], strlen(patterns[i]), s, len, 0));
    ck_assert(glob_match("a*a*a*a*a*a*a*a*a*a*a*a", 23, s, len, 0));
    double elapsed = now_seconds() - start;
    ck_assert_msg(elapsed < 2.0, "pathological patterns took %.3f s", elapsed);
    free(s);
}
END_TEST

static Suite *glob_suite(void)
{
    Suite *s = suite_create("glob");
    TCase *tc = suite_new_tcase(s, "core", NULL, NULL, 0);
    tcase_add_test(tc, test_literal);
    tcase_add_test(tc, test_star);
    tcase_add_test(tc, test_question);
    tcase_add_test(tc, test_sets);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_binary);
    tcase_add_test(tc, test_agrees_with_fnmatch);
    tcase_add_test(tc, test_pathological_is_fast);
    return s;
}

int main(void)
{
    return run_suite(glob_suite());
}
