package rocks

import (
	"time"

	"github.com/linxGnu/grocksdb"

	"etcd-lsm/common/diskusage"
	"etcd-lsm/common/engine"
)

// Family is the on-disk format family of every RocksDB variant: they can
// open each other's directories.
const Family = "rocksdb"

// ReadOnly is an engine over a RocksDB directory opened read-only, shared by
// all RocksDB variants (etcdutl's snapshot status and similar tools).
type ReadOnly struct {
	db   *grocksdb.DB
	ro   *grocksdb.ReadOptions
	disk *diskusage.Cached
}

// OpenReadOnly opens dir without the write lock. opts is destroyed by the
// caller.
func OpenReadOnly(dir string, opts *grocksdb.Options) (*ReadOnly, error) {
	db, err := grocksdb.OpenDbForReadOnly(opts, dir, false)
	if err != nil {
		return nil, err
	}
	return &ReadOnly{db: db, ro: grocksdb.NewDefaultReadOptions(), disk: diskusage.DirCache(dir, time.Second)}, nil
}

func (r *ReadOnly) View() (engine.View, error)         { return NewView(r.db), nil }
func (r *ReadOnly) Begin() (engine.Txn, error)         { return nil, engine.ErrReadOnly }
func (r *ReadOnly) Sizes(keys [][]byte) ([]int, error) { return Sizes(r.db, r.ro, keys) }
func (r *ReadOnly) DiskSize() int64                    { return r.disk.Size() }
func (r *ReadOnly) Close() error {
	r.ro.Destroy()
	r.db.Close()
	return nil
}
