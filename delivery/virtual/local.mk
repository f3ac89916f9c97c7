# delivery/virtual/local.mk: the virtual delivery agent (virtual mailboxes), installed as
# $(pkglibexecdir)/virtual; it writes with the mail layer's Maildir and mbox writers.
# Its delivery child runs through common/runas.c. Its table look-ups and delivery child are
# unit tested by tests/unit/test_virtual (tests/unit/test_virtual.c).
pkglibexec_PROGRAMS += libexec/virtual
libexec_virtual_SOURCES = delivery/virtual/virtual.c delivery/virtual/vmailbox.c \
	delivery/virtual/vmailbox.h delivery/virtual/vdeliver.c delivery/virtual/vdeliver.h
libexec_virtual_LDADD = $(TERN_LIBS)

UNIT_TESTS_VIRTUAL = tests/unit/test_virtual
check_PROGRAMS += $(UNIT_TESTS_VIRTUAL)
TESTS += $(UNIT_TESTS_VIRTUAL)
tests_unit_test_virtual_SOURCES = tests/unit/test_virtual.c \
	delivery/virtual/vmailbox.c delivery/virtual/vdeliver.c
tests_unit_test_virtual_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/virtual

dist_man_MANS += docs/virtual.8
EXTRA_DIST += tests/integration/test_virtual.py
