package nightly

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out the night's command, Run, and keeps the record of
// runs (job_runs); the night's steps write through the packages that own
// their tables (tracker, outbox, ledger), inside the run's transaction.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is a Store on pool taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
