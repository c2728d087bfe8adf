package auth

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out auth's commands: it owns the users table (accounts,
// roles, whether they may sign in), the set-password links, the record
// of failed sign-ins, and the ending of a user's sessions when what they
// may do changes. The sessions themselves are scs's (SessionStore).
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is the store over pool, taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
