package procurement

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out the procurement package's commands: it is the one
// writer of procurements, their steps, criteria, shortlist and scores,
// each command in its own transaction with its audit record. The award
// creates the procurement's order through the order package, in the same
// transaction.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is the store of procurements in pool, taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
