# etc/local.mk: sample configuration, installed in $(sysconfdir)/tern.
terndir = $(sysconfdir)/tern
dist_tern_DATA = etc/tern.conf etc/master.conf
