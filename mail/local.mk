# mail/local.mk: the mail layer (mail/libternmail.a): mail-specific code that more than one
# program uses: the SMTP command, path and parameter parsers (xtext: queue/), the dialogue rules
# smtpd and sendmail -bs share, RFC 5322 address lists, addresses split and keyed for table
# look-ups, the header scanner (fields, the end of the header, hopcount_limit), the streamed
# 8-bit to 7-bit MIME converter (smtpd and pickup before DKIM signing, the smtp client), the
# header lines delivery adds, the mailbox writers (Maildir, mbox), the delivery protocol
# (request, reply, a step's report) and the agents' side of a request; sender
# authentication: SPF (RFC 7208: macros, the record parser, check_host() as a state machine,
# and its run over the resolver), DKIM (tag lists, signatures, key records,
# canonicalization, signing, verification; the signing table and the streamed signer of
# smtpd and pickup), DMARC (records, the From: domain,
# organizational domains by the Public Suffix List, alignment, the evaluation),
# Authentication-Results (written, and the authserv-id of one read) and SRS (rewriting,
# reversing, the key file); and its unit tests.
noinst_LIBRARIES += mail/libternmail.a
mail_libternmail_a_SOURCES = \
	mail/smtp_parse.c mail/smtp_parse.h \
	mail/addrlist.c mail/addrlist.h \
	mail/address.c mail/address.h \
	mail/header_scanner.c mail/header_scanner.h \
	mail/mime_downgrade.c mail/mime_downgrade.h \
	mail/header.c mail/header.h \
	mail/maildir.c mail/maildir.h \
	mail/mbox.c mail/mbox.h \
	mail/delivery_proto.c mail/delivery_proto.h \
	mail/smtp_rules.c mail/smtp_rules.h \
	mail/delivery_agent.c mail/delivery_agent.h \
	mail/spf_macro.c mail/spf_macro.h \
	mail/spf_record.c mail/spf_record.h \
	mail/spf.c mail/spf.h \
	mail/spf_check.c mail/spf_check.h \
	mail/dkim.c mail/dkim.h mail/dkim_tags.c mail/dkim_tags.h mail/dkim_sig.c mail/dkim_sig.h \
	mail/dkim_key.c mail/dkim_key.h mail/dkim_canon.c mail/dkim_canon.h \
	mail/dkim_sign.c mail/dkim_sign.h mail/dkim_verify.c mail/dkim_verify.h \
	mail/dkim_signing.c mail/dkim_signing_parse.c mail/dkim_signing.h \
	mail/dkim_signer.c mail/dkim_signer.h \
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
	tests/unit/test_address tests/unit/test_delivery_agent tests/unit/test_spf \
	tests/unit/test_spf_dns \
	tests/unit/test_dkim_canon tests/unit/test_dkim_parse tests/unit/test_dkim \
	tests/unit/test_dkim_signing \
	tests/unit/test_downgrade \
	tests/unit/test_dmarc tests/unit/test_auth_results tests/unit/test_srs
check_PROGRAMS += $(MAIL_UNIT_TESTS)
TESTS += $(MAIL_UNIT_TESTS)
