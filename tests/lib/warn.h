/* SPDX-License-Identifier: GPL-2.0 */
/* Forced into the build by tests/00-static.bats: an unused variable must
 * fail a -Wall -Wextra -Werror build. */
static inline int tcaccel_warn_probe(void)
{
	int unused_on_purpose;

	return 0;
}
