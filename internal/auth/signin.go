package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/postgres"
)

// Throttle is the policy against guessing passwords: failed sign-ins for
// one account, or from one address, are first slowed and then refused
// until the oldest counted failure leaves the window.
type Throttle struct {
	Window       time.Duration // failures older than this are forgotten
	SlowAfter    int           // from this many failures on, each attempt waits
	Step         time.Duration // the wait grows by this per failure beyond SlowAfter
	MaxDelay     time.Duration
	AccountLimit int // failures for one email that lock it
	AddressLimit int // failures from one address that lock it out
	// Verifications bounds the password verifications running at once:
	// each attempt puts a token in before hashing and takes it out after.
	// Nil means the process's own few slots (argonSlots).
	Verifications chan struct{}
}

// DefaultThrottle allows a few typing mistakes and stops guessing: 5
// failures lock an account, 20 an address, for 15 minutes.
var DefaultThrottle = Throttle{
	Window:       15 * time.Minute,
	SlowAfter:    2,
	Step:         time.Second,
	MaxDelay:     5 * time.Second,
	AccountLimit: 5,
	AddressLimit: 20,
}

// ErrBadCredentials is the one message for an unknown email, a wrong
// password and a deactivated account, so none can be told apart.
var ErrBadCredentials = &apperr.Error{
	Code:    apperr.Invalid,
	Message: "Enter a correct email address and password",
	Fields:  map[string]string{FieldEmail: "Enter a correct email address and password"},
}

// dummyHash is verified against when the email is unknown, so the time a
// refusal takes does not tell whether the account exists.
var dummyHash, _ = HashPassword("not a real password, only for timing")

// SignIn is the outcome of an attempt: the user on success, and how long
// the response should be held back (slowing repeated failures).
type SignIn struct {
	User  User
	Delay time.Duration
}

// Authenticate checks an email and password from address at now, under
// the throttle. It records each failure; a success clears the account's.
// It holds a pooled connection only for the few short statements it makes,
// never while it waits for an argon2 slot or verifies the password, and
// the caller's delay comes after it has returned.
func (s *Store) Authenticate(ctx context.Context, th Throttle, email, password, address string) (SignIn, error) {
	now, pool := s.now(), s.pool
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" {
		errs := map[string]string{}
		if email == "" {
			errs[FieldEmail] = "Enter your email address"
		}
		if password == "" {
			errs[FieldPassword] = "Enter your password"
		}
		return SignIn{}, &apperr.Error{Code: apperr.Invalid, Message: "Enter your email address and password", Fields: errs}
	}

	// No connection is held while this attempt waits for another or while
	// its password is hashed: each step is one short autocommit statement.
	//
	// First the attempt is recorded as a failure, under locks on the
	// account and the address that last only as long as that one INSERT,
	// so attempts on one account or address get ids in the order they are
	// counted: an attempt counts every attempt before it, committed by then,
	// and a burst of parallel guesses is counted one by one instead of all
	// slipping under the limit together.
	var id int64
	if err := pool.QueryRow(ctx, `
		WITH locked AS (
			SELECT pg_advisory_xact_lock(hashtext('sign-in account ' || $1)),
			       pg_advisory_xact_lock(hashtext('sign-in address ' || $2)))
		INSERT INTO login_failures (email, address, failed_at)
		SELECT $1, $2, $3 FROM locked RETURNING id`, email, address, now).Scan(&id); err != nil {
		return SignIn{}, fmt.Errorf("record sign-in attempt: %w", err)
	}
	// Whatever happens to the request from here, what the attempt leaves
	// is settled: a client that gives up mid-way still counts as a failure,
	// and a success is not left looking like one.
	settle := context.WithoutCancel(ctx)

	c, err := countBefore(ctx, pool, th, now, id, email, address)
	if err != nil {
		return SignIn{}, err
	}
	if c.accountFails >= th.AccountLimit || c.addressFails >= th.AddressLimit {
		// A refused attempt is not tried, so it is not a failure either.
		if _, err := pool.Exec(settle, `DELETE FROM login_failures WHERE id = $1`, id); err != nil {
			return SignIn{}, fmt.Errorf("forget refused sign-in attempt: %w", err)
		}
		return SignIn{}, tooMany(th, now, c)
	}

	u, hash, err := userByEmail(ctx, pool, email)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && hash == ""):
		hash = "" // verified against the dummy hash below, for the time it takes
	case err != nil:
		return SignIn{}, err
	}
	ok, err := th.verify(ctx, hash, password)
	if err != nil {
		return SignIn{}, fmt.Errorf("verify password of %s: %w", email, err)
	}
	if !ok || !u.Active {
		n := max(c.accountFails, c.addressFails) + 1
		return SignIn{Delay: th.delay(n)}, ErrBadCredentials
	}
	// The account's failures up to this attempt are forgiven, this
	// attempt's row with them; later attempts still in flight count still.
	if _, err := pool.Exec(settle, `DELETE FROM login_failures WHERE email = $1 AND id <= $2`, email, id); err != nil {
		return SignIn{}, fmt.Errorf("clear failed sign-ins: %w", err)
	}
	return SignIn{User: u}, nil
}

// verify checks a password against a hash ("" for the dummy hash, which
// never matches), waiting for one of the few argon2 slots first.
func (th Throttle) verify(ctx context.Context, hash, password string) (bool, error) {
	slots := th.Verifications
	if slots == nil {
		slots = argonSlots
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-slots }()
	if hash == "" {
		_, _ = VerifyPassword(dummyHash, password)
		return false, nil
	}
	return VerifyPassword(hash, password)
}

// argonSlots bounds the argon2 verifications running at once, across the
// process: each takes 19 MiB or more and a core for tens of milliseconds,
// so a burst of sign-ins waits its turn here (holding no connection)
// rather than exhausting memory and starving every page of CPU. It is a
// property of the machine, not configuration.
var argonSlots = make(chan struct{}, min(max(runtime.NumCPU(), 2), 4))

// attemptCounts are the failures counted before one attempt, and when the
// lock each limit would put on it lifts.
type attemptCounts struct {
	accountFails, addressFails   int
	accountUnlock, addressUnlock time.Time
}

// countBefore counts the failures (and attempts still in flight) recorded
// before attempt id in the window, for its account and its address, in one
// query.
func countBefore(ctx context.Context, db postgres.Querier, th Throttle, now time.Time, id int64, email, address string) (attemptCounts, error) {
	var c attemptCounts
	var accountLimitth, addressLimitth *time.Time
	err := db.QueryRow(ctx, `
		WITH before AS (
			SELECT email, address, failed_at FROM login_failures
			WHERE id < $1 AND failed_at > $4 AND (email = $2 OR address = $3))
		SELECT (SELECT count(*) FROM before WHERE email = $2),
		       (SELECT failed_at FROM before WHERE email = $2 ORDER BY failed_at DESC OFFSET $5 LIMIT 1),
		       (SELECT count(*) FROM before WHERE address = $3),
		       (SELECT failed_at FROM before WHERE address = $3 ORDER BY failed_at DESC OFFSET $6 LIMIT 1)`,
		id, email, address, now.Add(-th.Window), th.AccountLimit-1, th.AddressLimit-1,
	).Scan(&c.accountFails, &accountLimitth, &c.addressFails, &addressLimitth)
	if err != nil {
		return c, fmt.Errorf("count failed sign-ins: %w", err)
	}
	if accountLimitth != nil {
		c.accountUnlock = accountLimitth.Add(th.Window)
	}
	if addressLimitth != nil {
		c.addressUnlock = addressLimitth.Add(th.Window)
	}
	return c, nil
}

// tooMany is the refusal of a locked account or address, saying how long
// until the lock lifts.
func tooMany(th Throttle, now time.Time, c attemptCounts) error {
	unlock := c.accountUnlock
	if c.accountFails < th.AccountLimit || (c.addressFails >= th.AddressLimit && c.addressUnlock.After(unlock)) {
		unlock = c.addressUnlock
	}
	minutes := max(int(math.Ceil(unlock.Sub(now).Minutes())), 1)
	plural := "s"
	if minutes == 1 {
		plural = ""
	}
	msg := fmt.Sprintf("There have been too many failed attempts to sign in. Wait %d minute%s, then try again.", minutes, plural)
	return &apperr.Error{Code: apperr.Forbidden, Message: msg, Fields: map[string]string{FieldEmail: msg}}
}

// delay is how long to hold back the response after the n-th failure.
func (th Throttle) delay(n int) time.Duration {
	if n <= th.SlowAfter {
		return 0
	}
	return min(time.Duration(n-th.SlowAfter)*th.Step, th.MaxDelay)
}

func userByEmail(ctx context.Context, db postgres.Querier, email string) (User, string, error) {
	var id int64
	var hash *string
	err := db.QueryRow(ctx, `SELECT id, password_hash FROM users WHERE email = $1`, email).Scan(&id, &hash)
	if err != nil {
		return User{}, "", err
	}
	u, err := GetUser(ctx, db, id)
	if hash == nil {
		return u, "", err
	}
	return u, *hash, err
}

// Tidy deletes sign-in failures older than keep and sessions that have
// expired: run now and then by the server, it keeps both tables small.
func (s *Store) Tidy(ctx context.Context, keep time.Duration) error {
	now := s.now()
	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE failed_at < $1`, now.Add(-keep)); err != nil {
		return fmt.Errorf("forget old sign-in failures: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < $1`, now); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
