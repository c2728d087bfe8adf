// Package testkit holds the fixtures and instruments that tests of several
// packages share: users to act as, a switch that cuts a test database off,
// and a heap sampler for benchmarks. Only tests import it.
package testkit

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// User inserts a user and returns their id. ccg is empty for roles that
// have none.
func User(t testing.TB, db postgres.Querier, email, name, role, ccg string) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), `
		INSERT INTO users (email, name, role, ccg_code) VALUES ($1, $2, $3, nullif($4, '')) RETURNING id`,
		email, name, role, ccg).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return id
}

// Buyer is Bea Buyer, a buyer of the CCG, whom most domain tests act as.
func Buyer(t testing.TB, db postgres.Querier, ccg string) int64 {
	t.Helper()
	return User(t, db, "b@example.nhs.uk", "Bea Buyer", "buyer", ccg)
}

// Door opens and shuts a test database to new connections, through a
// connection of its own to the cluster, so tests can take the database
// away from a running server and give it back. It is open again when the
// test ends.
type Door struct {
	t     testing.TB
	admin *pgx.Conn
	name  string
}

// DoorOf is the door of the database behind db; clusterURL is the
// cluster's URL (TEST_DATABASE_URL).
func DoorOf(t testing.TB, db postgres.Querier, clusterURL string) *Door {
	t.Helper()
	ctx := context.Background()
	d := &Door{t: t}
	if err := db.QueryRow(ctx, `SELECT current_database()`).Scan(&d.name); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, clusterURL)
	if err != nil {
		t.Fatal(err)
	}
	d.admin = admin
	t.Cleanup(func() {
		if err := d.set(true); err != nil {
			t.Error(err)
		}
		if err := admin.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return d
}

// Name is the database's name.
func (d *Door) Name() string { return d.name }

// Shut refuses new connections; those open stay open.
func (d *Door) Shut() {
	d.t.Helper()
	if err := d.set(false); err != nil {
		d.t.Fatal(err)
	}
}

// Open lets new connections in again.
func (d *Door) Open() {
	d.t.Helper()
	if err := d.set(true); err != nil {
		d.t.Fatal(err)
	}
}

// CutAll ends every open connection to the database, waiting up to 10 s
// for each to be gone.
func (d *Door) CutAll() {
	d.t.Helper()
	var cut bool
	if err := d.admin.QueryRow(context.Background(), `
		SELECT coalesce(bool_and(pg_terminate_backend(pid, 10000)), true) FROM pg_stat_activity WHERE datname = $1`,
		d.name).Scan(&cut); err != nil || !cut {
		d.t.Fatalf("cut the connections to %s: %v (all gone: %v)", d.name, err, cut)
	}
}

func (d *Door) set(allow bool) error {
	_, err := d.admin.Exec(context.Background(), `ALTER DATABASE `+pgx.Identifier{d.name}.Sanitize()+` ALLOW_CONNECTIONS `+strconv.FormatBool(allow))
	return err
}

// SampleHeap samples the Go heap in use every 2 ms, from after a
// collection, until the returned stop, which gives the heap in use at the
// start and the largest seen.
func SampleHeap() (stop func() (base, peak uint64)) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapInuse, m.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return base, peak
	}
}

// Clock is a test's own time, given to a domain Store as its clock
// (store := tracker.NewStore(pool, clock.Now)) and moved by the test
// between commands: no test waits on the wall clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
