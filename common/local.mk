# common/local.mk: the library every tern program links (common/libtern.a).
noinst_LIBRARIES += common/libtern.a
common_libtern_a_SOURCES = \
	common/mem.c common/mem.h \
	common/buf.c common/buf.h \
	common/clock.c common/clock.h \
	common/pwcache.c common/pwcache.h \
	common/log.c common/log.h \
	common/config.c common/config.h common/params.def \
	common/master_conf.c common/master_conf.h \
	common/ipc.c common/ipc_io.c common/ipc.h common/ipc_proto.h \
	common/delivery_proto.c common/delivery_proto.h \
	common/priv.c common/priv.h \
	common/safefile.c common/safefile.h \
	common/dict.c common/dict_db.c common/dict_text.c common/dict.h common/dict_impl.h \
	common/server.c common/server.h common/master_proto.h \
	common/workpool.c common/workpool.h \
	common/netmatch.c common/netmatch.h \
	common/dns.c common/dns.h common/dns_impl.h common/dns_mx.c common/dns_route.c \
	common/dict_unix.c \
	common/lists.c common/lists.h \
	queue/qdir.c queue/qdir.h \
	queue/qfile.c queue/qfile.h \
	queue/qspare.c queue/qspare.h \
	queue/qcommit.c queue/qcommit.h \
	queue/statuslog.c queue/statuslog.h \
	queue/maildrop.c queue/maildrop.h \
	queue/qlist.c queue/qlist.h \
	queue/qadmin.c queue/qadmin.h

# the resolver's tests: unit tests of its pure parts (dns_mx.c), and dnsq, which the integration
# tests (tests/integration/test_dns.py, with the DNS server of dnsserver.py) run against libtern
check_PROGRAMS += tests/unit/test_dns tests/dnsq
TESTS += tests/unit/test_dns
tests_unit_test_dns_SOURCES = tests/unit/test_dns.c
tests_unit_test_dns_LDADD = $(TERN_LIBS) $(CHECK_LIBS)
tests_dnsq_SOURCES = tests/dnsq.c
tests_dnsq_LDADD = $(TERN_LIBS)
EXTRA_DIST += tests/integration/dnsserver.py tests/integration/test_dns.py
