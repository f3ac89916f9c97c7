# pickup/local.mk: the pickup service (maildrop/ -> incoming/), installed as
# $(pkglibexecdir)/pickup. Its header rewrite (and the mail layer's address-list parser it
# goes through) are unit tested by tests/unit/test_pickup.
pkglibexec_PROGRAMS += libexec/pickup
libexec_pickup_SOURCES = pickup/pickup.c pickup/header_edit.c pickup/header_edit.h
libexec_pickup_LDADD = $(TERN_LIBS)
check_PROGRAMS += tests/unit/test_pickup
TESTS += tests/unit/test_pickup
tests_unit_test_pickup_SOURCES = tests/unit/test_pickup.c pickup/header_edit.c
tests_unit_test_pickup_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pickup
dist_man_MANS += docs/pickup.8
