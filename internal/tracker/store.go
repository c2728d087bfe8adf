package tracker

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out the return's commands: issuing a month's returns,
// changing a return's lines (by form, by workbook or from a proposed
// change), submitting it, and the reviewer's return or acceptance, which
// applies its changes to the service ledger. It is the one writer of
// tracker_returns, return_lines, return_submissions and
// practice_proposals; each command opens its one transaction, takes the
// time from the Store's clock once, and records who acted from the
// org.Actor it is given. Reads are the package's functions.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is a Store on pool taking the time from now (time.Now, or the
// server's or a test's clock).
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
