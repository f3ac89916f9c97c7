# delivery/local/local.mk: the local delivery agent, installed as $(pkglibexecdir)/local, its
# man page, and the unit tests of its pure parts.
LOCAL_AGENT_SOURCES = delivery/local/local.h delivery/local/conf.c \
	delivery/local/recipient.c delivery/local/expand.c delivery/local/actions.c \
	delivery/local/report.c delivery/local/report.h delivery/local/mailbox.c \
	delivery/local/mailbox.h \
	delivery/local/command.c delivery/local/command.h delivery/local/listfile.c \
	delivery/local/listfile.h delivery/local/aliasparse.c delivery/local/aliasparse.h \
	delivery/local/rcptaddr.c delivery/local/rcptaddr.h delivery/local/exitcode.c \
	delivery/local/exitcode.h delivery/local/userjob.c delivery/local/userjob.h
pkglibexec_PROGRAMS += libexec/local
libexec_local_SOURCES = delivery/local/local.c $(LOCAL_AGENT_SOURCES)
libexec_local_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/local.8

LOCAL_UNIT_TESTS = tests/unit/test_alias tests/unit/test_local_misc
check_PROGRAMS += $(LOCAL_UNIT_TESTS)
TESTS += $(LOCAL_UNIT_TESTS)
tests_unit_test_alias_SOURCES = tests/unit/test_alias.c delivery/local/aliasparse.c \
	delivery/local/aliasparse.h delivery/local/rcptaddr.c delivery/local/rcptaddr.h
tests_unit_test_alias_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/local
tests_unit_test_local_misc_SOURCES = tests/unit/test_local_misc.c delivery/local/exitcode.c \
	delivery/local/exitcode.h delivery/local/report.c delivery/local/report.h
tests_unit_test_local_misc_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/local
EXTRA_DIST += tests/integration/test_local.py
