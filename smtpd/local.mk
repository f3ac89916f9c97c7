# smtpd/local.mk: the SMTP server, installed as $(pkglibexecdir)/smtpd, its man page, and the
# unit tests of its pure parts: the recipient policy, AUTH, the DATA/BDAT content filter and
# SRS addresses at RCPT.
pkglibexec_PROGRAMS += libexec/smtpd
libexec_smtpd_SOURCES = smtpd/smtpd.c smtpd/smtpd.h smtpd/session.c smtpd/session.h \
	smtpd/data.c smtpd/data.h smtpd/policy.c smtpd/policy.h smtpd/tls.c smtpd/tls.h \
	smtpd/auth.c smtpd/auth.h smtpd/msgauth.c smtpd/msgauth.h smtpd/srs_rcpt.c \
	smtpd/srs_rcpt.h
libexec_smtpd_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/smtpd.8
EXTRA_DIST += smtpd/README.md tests/integration/test_smtpd.py

SMTPD_UNIT_TESTS = tests/unit/test_policy tests/unit/test_auth tests/unit/test_data \
	tests/unit/test_srs_rcpt
check_PROGRAMS += $(SMTPD_UNIT_TESTS)
TESTS += $(SMTPD_UNIT_TESTS)
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c smtpd/policy.c
tests_unit_test_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c smtpd/auth.c smtpd/tls.c
tests_unit_test_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
tests_unit_test_data_SOURCES = tests/unit/test_data.c smtpd/data.c
tests_unit_test_data_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
tests_unit_test_srs_rcpt_SOURCES = tests/unit/test_srs_rcpt.c smtpd/srs_rcpt.c
tests_unit_test_srs_rcpt_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
