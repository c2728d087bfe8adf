package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

// signInPool is a pool of max connections on a fresh database with the
// demo users.
func signInPool(t *testing.T, max int32) *pgxpool.Pool {
	t.Helper()
	_, dbURL := pgtest.NewWithURL(t)
	pool, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.MaxConns = max })
	testkit.DemoUsers(t, pool)
	return pool
}

// A burst far bigger than the pool, on 2 connections: every attempt
// finishes, and the limits hold exactly, per address and per account.
func TestBurstOfSignInsOnTwoConnectionsIsCountedExactly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := signInPool(t, 2)
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 2, Step: time.Second, MaxDelay: 5 * time.Second, AccountLimit: 5, AddressLimit: 20}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)

	type attempt struct{ email, password, address string }
	var attempts []attempt
	// 40 unknown emails from one address, and 15 wrong passwords for one
	// account, each from its own address.
	for i := range 40 {
		attempts = append(attempts, attempt{fmt.Sprintf("nobody%d@example.nhs.uk", i), "guess", "192.0.2.1"})
	}
	for i := range 15 {
		attempts = append(attempts, attempt{"reviewer@example.nhs.uk", fmt.Sprintf("guess %d", i), fmt.Sprintf("198.51.100.%d", i)})
	}
	type result struct {
		delay time.Duration
		err   error
	}
	results := make([]result, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Go(func() {
			res, err := users.Authenticate(ctx, th, a.email, a.password, a.address)
			results[i] = result{res.Delay, err}
		})
	}
	wg.Wait()

	tally := func(from, to int) (tried, refused int, delays map[time.Duration]int) {
		delays = map[time.Duration]int{}
		for _, r := range results[from:to] {
			switch {
			case errors.Is(r.err, auth.ErrBadCredentials):
				tried++
				delays[r.delay]++
			case apperr.Is(r.err, apperr.Forbidden):
				refused++
			default:
				t.Errorf("unexpected outcome: %v", r.err)
			}
		}
		return tried, refused, delays
	}
	tried, refused, delays := tally(0, 40)
	if tried != 20 || refused != 20 {
		t.Errorf("from one address: %d tried and %d refused, want 20 and 20", tried, refused)
	}
	// Counted one by one: the n-th failure waits (n-2) seconds, up to 5.
	want := map[time.Duration]int{0: 2, time.Second: 1, 2 * time.Second: 1, 3 * time.Second: 1, 4 * time.Second: 1, 5 * time.Second: 14}
	if fmt.Sprint(delays) != fmt.Sprint(want) {
		t.Errorf("delays of the address's failures: %v", delays)
	}
	tried, refused, _ = tally(40, 55)
	if tried != 5 || refused != 10 {
		t.Errorf("for one account: %d tried and %d refused, want 5 and 10", tried, refused)
	}
	var byAddress, byAccount int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE address = '192.0.2.1'),
		count(*) FILTER (WHERE email = 'reviewer@example.nhs.uk') FROM login_failures`).Scan(&byAddress, &byAccount); err != nil {
		t.Fatal(err)
	}
	if byAddress != 20 || byAccount != 5 {
		t.Errorf("failures recorded: %d from the address, %d for the account; want 20 and 5", byAddress, byAccount)
	}
}

// While an attempt's password is being verified it holds no connection:
// on a pool of one, another query runs meanwhile.
func TestNoConnectionIsHeldWhileAPasswordIsVerified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := signInPool(t, 1)
	// An unbuffered gate: an attempt's token goes in only when the test
	// takes it, and comes out only when the test gives it back, so the
	// test knows exactly when an attempt is between the two.
	gate := make(chan struct{})
	th := auth.DefaultThrottle
	th.Verifications = gate
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

	done := make(chan error, 1)
	go func() {
		res, err := auth.NewStore(pool, testkit.NewClock(now).Now).Authenticate(ctx, th, "reviewer@example.nhs.uk", auth.DemoPassword, "192.0.2.1")
		if err == nil && res.User.Email != "reviewer@example.nhs.uk" {
			err = fmt.Errorf("signed in as %q", res.User.Email)
		}
		done <- err
	}()
	<-gate // the attempt is verifying now
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Errorf("%d connections held while verifying", n)
	}
	// Bounded only so that a regression fails instead of hanging.
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var pending int
	if err := pool.QueryRow(qctx, `SELECT count(*) FROM login_failures`).Scan(&pending); err != nil {
		t.Errorf("a query while a password is verified: %v", err)
	}
	if pending != 1 {
		t.Errorf("%d attempts recorded while one is verified, want 1", pending)
	}
	gate <- struct{}{} // its slot back
	if err := <-done; err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("after success %d failures left (%v), want 0", pending, err)
	}
}
