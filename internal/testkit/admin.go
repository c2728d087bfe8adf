package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// DemoUsers adds the demo users (auth.DemoUsers, each with the password
// auth.DemoPassword), as `tracker seed --demo` does: the people the
// server's and the browser's tests sign in as.
func DemoUsers(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := auth.SeedDemoUsers(ctx, tx, time.Now())
		return err
	}); err != nil {
		t.Fatalf("demo users: %v", err)
	}
}

// UserID is the id of the user with the email address.
func UserID(t testing.TB, db postgres.Querier, email string) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return id
}

// UserByEmail is the user with the email address, as auth reads them.
func UserByEmail(t testing.TB, db postgres.Querier, email string) auth.User {
	t.Helper()
	u, err := auth.GetUser(context.Background(), db, UserID(t, db, email))
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// ActorOf is the user with the email address acting within their role's
// scope, for a store's commands.
func ActorOf(t testing.TB, db postgres.Querier, email string) org.Actor {
	t.Helper()
	return UserByEmail(t, db, email).Actor()
}
