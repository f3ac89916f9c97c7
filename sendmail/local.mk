# sendmail/local.mk: the sendmail(1) command (also mailq and newaliases by its name) and the
# set-gid terndrop helper that writes its files into maildrop/ (terndrop(8)). sendmail -bs
# checks paths and ESMTP parameters with the mail layer's parsers.
sbin_PROGRAMS += bin/sendmail
bin_sendmail_SOURCES = sendmail/sendmail.c sendmail/sendmail.h sendmail/smtp_stdio.c \
	sendmail/drop.c sendmail/drop.h
bin_sendmail_LDADD = $(TERN_LIBS)
pkglibexec_PROGRAMS += libexec/terndrop
libexec_terndrop_SOURCES = sendmail/terndrop.c
libexec_terndrop_LDADD = $(TERN_LIBS)
dist_man_MANS += docs/sendmail.1 docs/terndrop.8
EXTRA_DIST += tests/integration/test_sendmail.py
