package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var keyBucket = []byte("key")

// revKey is the i-th 8-byte revision-like key: big-endian, so increasing.
func revKey(i uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, i)
	return k
}

func value(rng *rand.Rand) []byte {
	v := make([]byte, 256)
	rng.Read(v)
	return v
}

// Sizes are the preloaded database sizes the read benchmarks use:
// $ETCDLSM_BENCH_SIZES (comma-free list like "10000 1000000"), default 10k.
func Sizes() []int {
	s := os.Getenv("ETCDLSM_BENCH_SIZES")
	if s == "" {
		return []int{10000}
	}
	var out []int
	for _, f := range splitFields(s) {
		var n int
		if _, err := fmt.Sscan(f, &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, r := range s + " " {
		if r == ' ' || r == ',' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
		} else {
			cur += string(r)
		}
	}
	return out
}

// All runs every benchmark on the stores o opens. Sub-benchmark names do not
// mention the store, so results of different stores pair up in benchstat.
func All(b *testing.B, o Opener) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("put/n=%d", n), func(b *testing.B) { Put(b, o, n) })
	}
	for _, size := range Sizes() {
		b.Run(fmt.Sprintf("seek/keys=%d", size), func(b *testing.B) { PointRead(b, o, size) })
		b.Run(fmt.Sprintf("range1000/keys=%d", size), func(b *testing.B) { Range(b, o, size, 1000) })
	}
	b.Run("mixed", func(b *testing.B) { Mixed(b, o) })
}

// Put measures one write transaction of n puts and its (synced) commit.
func Put(b *testing.B, o Opener, n int) {
	s, err := o.Open(filepath.Join(b.TempDir(), "db"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewSource(1))
	vals := make([][]byte, 64)
	for i := range vals {
		vals[i] = value(rng)
	}
	var next uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := s.Update(func(w Writer) error {
			for j := 0; j < n; j++ {
				next++
				if err := w.Put(keyBucket, revKey(next), vals[next%64]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/put")
}

var preloadMu sync.Mutex

// preloaded returns a store holding keys 0..size-1 in the key bucket, made
// once per store kind and size and kept in cacheDir between runs.
func preloaded(b *testing.B, o Opener, size int) Store {
	preloadMu.Lock()
	defer preloadMu.Unlock()
	dir := filepath.Join(cacheDir(), fmt.Sprintf("%s-%d", o.Name, size))
	path := filepath.Join(dir, "db")
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		s, err := o.Open(path, true)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewSource(2))
		for lo := 0; lo < size; lo += 10000 {
			err := s.Update(func(w Writer) error {
				for i := lo; i < lo+10000 && i < size; i++ {
					if err := w.Put(keyBucket, revKey(uint64(i)), value(rng)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		os.WriteFile(done, nil, 0o600)
		b.Logf("preloaded %s with %d keys in %v", o.Name, size, time.Since(start).Round(time.Millisecond))
	}
	s, err := o.Open(path, true)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// PointRead measures a single-key read: a fresh cursor's Seek on a shared
// read transaction, from several goroutines, as etcd serves a range of one
// key. The transaction is renewed every 10000 reads (etcd: every commit).
func PointRead(b *testing.B, o Opener, size int) {
	s := preloaded(b, o, size)
	defer s.Close()
	readShared(b, s, func(r Reader, rng *rand.Rand) {
		k := revKey(uint64(rng.Intn(size)))
		if got, _ := r.Seek(keyBucket, k); len(got) != 8 {
			panic("point read missed an existing key")
		}
	})
}

// Range measures a scan of n keys from a random start.
func Range(b *testing.B, o Opener, size, n int) {
	s := preloaded(b, o, size)
	defer s.Close()
	readShared(b, s, func(r Reader, rng *rand.Rand) {
		r.Scan(keyBucket, revKey(uint64(rng.Intn(size-n))), n)
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}

// readShared runs op b.N times across goroutines on a read transaction
// that is shared and renewed every 10000 operations.
func readShared(b *testing.B, s Store, op func(Reader, *rand.Rand)) {
	var mu sync.RWMutex
	r, err := s.Begin()
	if err != nil {
		b.Fatal(err)
	}
	var ops atomic.Int64
	var seed atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewSource(seed.Add(1)))
		for pb.Next() {
			if ops.Add(1)%10000 == 0 {
				mu.Lock()
				r.Close()
				if r, err = s.Begin(); err != nil {
					panic(err)
				}
				mu.Unlock()
			}
			mu.RLock()
			op(r, rng)
			mu.RUnlock()
		}
	})
	b.StopTimer()
	r.Close()
}

// Mixed is etcd's shape: one writer puts and commits every 1000 puts (and
// renews the shared read transaction at each commit) while readers do
// point reads of recent keys. An operation is one put; reads/s is reported.
func Mixed(b *testing.B, o Opener) {
	s, err := o.Open(filepath.Join(b.TempDir(), "db"), false)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewSource(3))
	val := value(rng)
	if err := s.Update(func(w Writer) error { return w.Put(keyBucket, revKey(0), val) }); err != nil {
		b.Fatal(err)
	}
	var (
		mu        sync.RWMutex
		committed atomic.Uint64
		reads     atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	r, err := s.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			for !stop.Load() {
				mu.RLock()
				r.Seek(keyBucket, revKey(uint64(rng.Int63n(int64(committed.Load())+1))))
				mu.RUnlock()
				reads.Add(1)
			}
		}(g)
	}
	b.ResetTimer()
	var next uint64
	for done := 0; done < b.N; {
		batch := min(1000, b.N-done)
		err := s.Update(func(w Writer) error {
			for j := 0; j < batch; j++ {
				next++
				if err := w.Put(keyBucket, revKey(next), val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
		mu.Lock()
		r.Close()
		if r, err = s.Begin(); err != nil {
			b.Fatal(err)
		}
		committed.Store(next)
		mu.Unlock()
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	r.Close()
	b.ReportMetric(float64(reads.Load())/b.Elapsed().Seconds(), "reads/s")
}
