# queue/local.mk: the queue directory rules and the queue file format are compiled into
# common/libtern.a (see common/local.mk), since smtpd, pickup, qmgr and the tools share them.
