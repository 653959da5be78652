/* test_protected.c: Check unit tests of the protected-mode decision
 * (net/protected.c): who is refused with protected-mode on or off, with and
 * without a password, from loopback (IPv4, IPv6, IPv4-mapped), from other
 * addresses and from Unix sockets; and the error text's framing. Only the
 * decision can be tested here: integration tests connect over loopback. */
#include <check.h>
#include <string.h>

#include "net/protected.h"
#include "tests/unit/fake/check_suite.h"

START_TEST(test_protected_refuses_remote_without_password)
{
    ck_assert_int_eq(protected_mode_denies(1, 0, "10.1.2.3", 0), 1);
    ck_assert_int_eq(protected_mode_denies(1, 0, "192.168.0.7", 0), 1);
    ck_assert_int_eq(protected_mode_denies(1, 0, "2001:db8::1", 0), 1);
    ck_assert_int_eq(protected_mode_denies(1, 0, "::ffff:10.0.0.1", 0), 1);
    ck_assert_int_eq(protected_mode_denies(1, 0, NULL, 0), 1); /* address unknown */
}
END_TEST

START_TEST(test_protected_serves_loopback_and_unix)
{
    ck_assert_int_eq(protected_mode_denies(1, 0, "127.0.0.1", 0), 0);
    ck_assert_int_eq(protected_mode_denies(1, 0, "127.5.6.7", 0), 0);
    ck_assert_int_eq(protected_mode_denies(1, 0, "::1", 0), 0);
    ck_assert_int_eq(protected_mode_denies(1, 0, "::ffff:127.0.0.1", 0), 0);
    ck_assert_int_eq(protected_mode_denies(1, 0, NULL, 1), 0);
}
END_TEST

START_TEST(test_protected_off_or_password_serves_everyone)
{
    ck_assert_int_eq(protected_mode_denies(0, 0, "10.1.2.3", 0), 0);
    ck_assert_int_eq(protected_mode_denies(1, 1, "10.1.2.3", 0), 0);
    ck_assert_int_eq(protected_mode_denies(0, 1, "10.1.2.3", 0), 0);
}
END_TEST

START_TEST(test_protected_error_text)
{
    size_t n = strlen(protected_mode_error);
    ck_assert(!strncmp(protected_mode_error, "-DENIED Redis is running in protected mode", 42));
    ck_assert(!strcmp(protected_mode_error + n - 2, "\r\n"));
    ck_assert_ptr_null(memchr(protected_mode_error, '\n', n - 1));
    ck_assert_ptr_nonnull(strstr(protected_mode_error, "'--protected-mode no'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("protected");
    TCase *tc = suite_new_tcase(s, "decision", NULL, NULL, 0);
    tcase_add_test(tc, test_protected_refuses_remote_without_password);
    tcase_add_test(tc, test_protected_serves_loopback_and_unix);
    tcase_add_test(tc, test_protected_off_or_password_serves_everyone);
    tcase_add_test(tc, test_protected_error_text);
    return run_suite(s);
}
