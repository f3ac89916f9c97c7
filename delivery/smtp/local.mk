# delivery/smtp/local.mk: the smtp delivery agent (the lmtp one too, with the master.conf
# argument "lmtp"), installed as $(pkglibexecdir)/smtp. Its pure parts (replies, next hops,
# dot-stuffing) are unit tested by tests/unit/test_smtp_parsers, its certificate checks (CA,
# names, DANE) by tests/unit/test_smtp_tls; the engine end to end by
# tests/integration/test_smtp_client.py. The 8-bit to 7-bit conversion is the mail layer's
# (mail/mime_downgrade.c).
pkglibexec_PROGRAMS += libexec/smtp
libexec_smtp_SOURCES = delivery/smtp/smtp.c delivery/smtp/smtp.h \
	delivery/smtp/deliver.c delivery/smtp/deliver.h \
	delivery/smtp/xact.c delivery/smtp/xact.h \
	delivery/smtp/session.c delivery/smtp/session.h \
	delivery/smtp/conn_cache.c delivery/smtp/conn_cache.h \
	delivery/smtp/message.c delivery/smtp/message.h \
	delivery/smtp/tls_client.c delivery/smtp/tls_client.h \
	delivery/smtp/tls_policy.c delivery/smtp/tls_policy.h \
	delivery/smtp/reply.c delivery/smtp/reply.h \
	delivery/smtp/nexthop.c delivery/smtp/nexthop.h \
	delivery/smtp/dotstuff.c delivery/smtp/dotstuff.h
libexec_smtp_LDADD = $(TERN_LIBS)

check_PROGRAMS += tests/unit/test_smtp_parsers
TESTS += tests/unit/test_smtp_parsers
tests_unit_test_smtp_parsers_SOURCES = tests/unit/test_smtp_parsers.c \
	delivery/smtp/reply.c delivery/smtp/nexthop.c delivery/smtp/dotstuff.c
tests_unit_test_smtp_parsers_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/smtp

check_PROGRAMS += tests/unit/test_smtp_tls
TESTS += tests/unit/test_smtp_tls
tests_unit_test_smtp_tls_SOURCES = tests/unit/test_smtp_tls.c delivery/smtp/tls_client.c
tests_unit_test_smtp_tls_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/delivery/smtp

dist_man_MANS += docs/smtp.8
EXTRA_DIST += tests/integration/test_smtp_client.py tests/integration/test_smtp.py
