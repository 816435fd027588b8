package bolt

import "etcd-lsm/common/engine"

// WALSyncs is the number of write-ahead-log syncs the engine has made since
// this DB opened it; ok is false when the engine cannot count them (it does
// not implement engine.SyncCounter). Tests use it to check that a commit
// without NoSync asked the disk to keep it, which no crash test can tell.
func (db *DB) WALSyncs() (n int64, ok bool) {
	if !db.open.Load() || db.eng == nil {
		return 0, false
	}
	c, ok := db.eng.(engine.SyncCounter)
	if !ok {
		return 0, false
	}
	n = c.WALSyncs()
	return n, n >= 0
}

// EngineStats are the engine's gauges and counters; ok is false when the
// engine does not report them (engine.StatsReporter).
func (db *DB) EngineStats() (st engine.Stats, ok bool) {
	if !db.open.Load() || db.eng == nil {
		return st, false
	}
	return engineStats(db.eng)
}

// engineStats reads e's Stats when it reports them.
func engineStats(e engine.Engine) (engine.Stats, bool) {
	if r, ok := e.(engine.StatsReporter); ok {
		return r.Stats(), true
	}
	return engine.Stats{}, false
}
