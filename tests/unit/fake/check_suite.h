/* check_suite.h: the Check boilerplate every unit suite shares: making a
 * test case with its fixture and timeout, and the main() that runs a suite
 * and turns its failures into the exit status. Linked into every test
 * binary with the rest of tests/unit/fake/. */
#ifndef TANDEM_CHECK_SUITE_H
#define TANDEM_CHECK_SUITE_H

#include <check.h>

/* A test case named name, added to s, with setup/teardown as a checked
 * fixture (either may be NULL; both NULL adds none) and timeout seconds
 * (0 keeps Check's default, CK_DEFAULT_TIMEOUT). */
TCase *suite_new_tcase(Suite *s, const char *name, SFun setup, SFun teardown, double timeout);

/* Runs every test of s (CK_NORMAL output), frees the runner and returns
 * EXIT_SUCCESS when none failed, else EXIT_FAILURE: main's return value. */
int run_suite(Suite *s);

#endif
