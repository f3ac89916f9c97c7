# pickup/local.mk: the pickup service (maildrop/ -> incoming/), installed as
# $(pkglibexecdir)/pickup. Its address-list parser and header rewrite are unit tested by
# tests/unit/test_pickup; it checks addresses with smtpd's path parser.
pkglibexec_PROGRAMS += libexec/pickup
libexec_pickup_SOURCES = pickup/pickup.c pickup/addrlist.c pickup/addrlist.h \
	pickup/header_edit.c pickup/header_edit.h smtpd/smtp_parse.c smtpd/smtp_parse.h
libexec_pickup_LDADD = $(TERN_LIBS)
AM_CPPFLAGS += -I$(top_srcdir)/pickup
check_PROGRAMS += tests/unit/test_pickup
TESTS += tests/unit/test_pickup
tests_unit_test_pickup_SOURCES = tests/unit/test_pickup.c pickup/addrlist.c pickup/header_edit.c
dist_man_MANS += docs/pickup.8
