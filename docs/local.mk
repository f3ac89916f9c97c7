# docs/local.mk: man pages and architecture notes.
dist_man_MANS += docs/tern.1 docs/ternconf.1 docs/ternpasswd.1 docs/tern.conf.5 docs/master.conf.5 \
	docs/smtpd.8
EXTRA_DIST += docs/ARCHITECTURE.md
