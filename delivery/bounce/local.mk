# delivery/bounce/local.mk: the bounce service (delivery status notifications), installed as
# $(pkglibexecdir)/bounce. Its notice text (dsn.c) is unit tested by tests/unit/test_dsn.
pkglibexec_PROGRAMS += libexec/bounce
libexec_bounce_SOURCES = delivery/bounce/bounce.c delivery/bounce/notice.c \
	delivery/bounce/notice.h delivery/bounce/dsn.c delivery/bounce/dsn.h
libexec_bounce_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/bounce.8
check_PROGRAMS += tests/unit/test_dsn
TESTS += tests/unit/test_dsn
tests_unit_test_dsn_SOURCES = tests/unit/test_dsn.c delivery/bounce/dsn.c delivery/bounce/dsn.h
tests_unit_test_dsn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/bounce
EXTRA_DIST += tests/integration/test_bounce.py
