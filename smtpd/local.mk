# smtpd/local.mk: the SMTP server, installed as $(pkglibexecdir)/smtpd.
pkglibexec_PROGRAMS += libexec/smtpd
libexec_smtpd_SOURCES = smtpd/smtpd.c smtpd/smtpd.h smtpd/session.c smtpd/session.h \
	smtpd/data.c smtpd/data.h smtpd/smtp_parse.c smtpd/smtp_parse.h \
	smtpd/policy.c smtpd/policy.h smtpd/tls.c smtpd/tls.h smtpd/auth.c smtpd/auth.h
libexec_smtpd_LDADD = $(TERN_LIBS)
EXTRA_DIST += smtpd/README.md
