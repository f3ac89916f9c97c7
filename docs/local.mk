# docs/local.mk: man pages and architecture notes. The pages of the programs other folders
# build are listed in those folders' local.mk.
dist_man_MANS += docs/tern.8 docs/master.8 docs/ternconf.1 docs/ternpasswd.1 docs/tern.conf.5 \
	docs/master.conf.5 docs/smtpd.8
EXTRA_DIST += docs/ARCHITECTURE.md
