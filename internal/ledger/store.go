package ledger

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out the ledger's commands: the continuity import, and a
// reviewer's additions to and cancellations under an agreement. It owns
// service_instances, their history and continuity_agreements. The changes
// that follow another package's event (an order completed or terminated,
// a return accepted, the night's cessations) are the …Tx functions, run in
// that package's transaction.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore returns the ledger's store on pool, taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store {
	return &Store{pool: pool, now: now}
}
