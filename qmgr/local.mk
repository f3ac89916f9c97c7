# qmgr/local.mk: the queue manager, installed as $(pkglibexecdir)/qmgr, its man page, and the
# unit tests of its next-hop resolver, virtual alias expansion and SRS.
pkglibexec_PROGRAMS += libexec/qmgr
libexec_qmgr_SOURCES = qmgr/qmgr.c qmgr/qmgr.h qmgr/scan.c qmgr/message.c qmgr/schedule.c \
	qmgr/call.c qmgr/forward.c qmgr/valias.c qmgr/resolve.c qmgr/resolve.h qmgr/srs.c \
	qmgr/admin.c qmgr/flush.c
libexec_qmgr_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/qmgr.8
EXTRA_DIST += tests/integration/test_qmgr.py tests/integration/test_srs.py

QMGR_UNIT_TESTS = tests/unit/test_resolve tests/unit/test_valias tests/unit/test_qsrs
check_PROGRAMS += $(QMGR_UNIT_TESTS)
TESTS += $(QMGR_UNIT_TESTS)
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c qmgr/resolve.c qmgr/resolve.h
tests_unit_test_resolve_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/qmgr
tests_unit_test_valias_SOURCES = tests/unit/test_valias.c qmgr/valias.c qmgr/qmgr.h
tests_unit_test_valias_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/qmgr
tests_unit_test_qsrs_SOURCES = tests/unit/test_qsrs.c qmgr/srs.c qmgr/qmgr.h
tests_unit_test_qsrs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/qmgr
