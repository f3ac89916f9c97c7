# mail/local.mk: the mail layer (mail/libternmail.a): mail-specific code that more than one
# program uses: the SMTP command, path and parameter parsers (xtext: queue/), the dialogue rules
# smtpd and sendmail -bs share, RFC 5322 address lists, addresses split and keyed for table
# look-ups, the header scanner (fields, the end of the header, hopcount_limit), the header
# lines delivery adds, the mailbox writers (Maildir, mbox), the delivery protocol (request,
# reply, a step's report) and the agents' side of a request; sender authentication's pure
# parts: DMARC (records, the From: domain, organizational domains by the Public Suffix List,
# alignment, the evaluation), Authentication-Results (written, and the authserv-id of one read)
# and SRS (rewriting, reversing, the key file); and its unit tests.
noinst_LIBRARIES += mail/libternmail.a
mail_libternmail_a_SOURCES = \
	mail/smtp_parse.c mail/smtp_parse.h \
	mail/addrlist.c mail/addrlist.h \
	mail/address.c mail/address.h \
	mail/header_scanner.c mail/header_scanner.h \
	mail/header.c mail/header.h \
	mail/maildir.c mail/maildir.h \
	mail/mbox.c mail/mbox.h \
	mail/delivery_proto.c mail/delivery_proto.h \
	mail/smtp_rules.c mail/smtp_rules.h \
	mail/delivery_agent.c mail/delivery_agent.h \
	mail/dmarc_record.c mail/dmarc_record.h \
	mail/dmarc.c mail/dmarc.h \
	mail/auth_results.c mail/auth_results.h \
	mail/srs_address.c mail/srs_address.h \
	mail/srs.c mail/srs.h
# dmarc.c asks libpsl for organizational domains: everything linked with the libraries gets it
AM_CFLAGS += $(PSL_CFLAGS)
TERN_LIBS += $(PSL_LIBS)

MAIL_UNIT_TESTS = tests/unit/test_smtp_parse tests/unit/test_maildir tests/unit/test_mbox \
	tests/unit/test_delivery_proto tests/unit/test_smtp_rules tests/unit/test_header \
	tests/unit/test_address tests/unit/test_delivery_agent \
	tests/unit/test_dmarc tests/unit/test_auth_results tests/unit/test_srs
check_PROGRAMS += $(MAIL_UNIT_TESTS)
TESTS += $(MAIL_UNIT_TESTS)
