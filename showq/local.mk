# showq/local.mk: the queue listing service (public/showq), installed as $(pkglibexecdir)/showq,
# and what goes with ternqueue (admin/local.mk builds it): the man pages, the unit tests of the
# listing (queue/qlist.c, admin/ternqueue_print.c) and of the admin actions (queue/qadmin.c),
# and the integration test.
pkglibexec_PROGRAMS += libexec/showq
libexec_showq_SOURCES = showq/showq.c
libexec_showq_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/ternqueue.1 docs/showq.8

check_PROGRAMS += tests/unit/test_qlist tests/unit/test_qadmin
TESTS += tests/unit/test_qlist tests/unit/test_qadmin
tests_unit_test_qlist_SOURCES = tests/unit/test_qlist.c admin/ternqueue_print.c \
	admin/ternqueue_print.h
tests_unit_test_qlist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
tests_unit_test_qadmin_SOURCES = tests/unit/test_qadmin.c
EXTRA_DIST += tests/integration/test_ternqueue.py
