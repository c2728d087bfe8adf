package pgtest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// QueryCounter counts the statements sent through the pools it traces,
// so a test can show that a page or a function costs a fixed number of
// queries however much data it shows.
type QueryCounter struct{ n atomic.Int64 }

// TraceQueryStart counts one statement.
func (c *QueryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd does nothing: a statement is counted when it starts.
func (c *QueryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Count is the number of statements so far.
func (c *QueryCounter) Count() int64 { return c.n.Load() }

// NewCounted is New with every statement of the pool counted.
func NewCounted(t testing.TB) (*pgxpool.Pool, *QueryCounter) {
	t.Helper()
	_, dbURL := NewWithURL(t)
	return Open(t, dbURL, func(c *pgxpool.Config) {})
}

// Open opens another pool on a test database, configured by fn (a small
// MaxConns, say), with every statement counted; closed when the test ends.
func Open(t testing.TB, dbURL string, fn func(*pgxpool.Config)) (*pgxpool.Pool, *QueryCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("test database URL: %v", err)
	}
	counter := &QueryCounter{}
	cfg.ConnConfig.Tracer = counter
	fn(cfg)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, counter
}
