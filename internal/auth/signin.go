package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	Fields:  map[string]string{"email": "Enter a correct email address and password"},
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
func Authenticate(ctx context.Context, pool *pgxpool.Pool, th Throttle, now time.Time, email, password, address string) (SignIn, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" {
		errs := map[string]string{}
		if email == "" {
			errs["email"] = "Enter your email address"
		}
		if password == "" {
			errs["password"] = "Enter your password"
		}
		return SignIn{}, &apperr.Error{Code: apperr.Invalid, Message: "Enter your email address and password", Fields: errs}
	}

	// Counting, verifying and recording happen under locks on the account
	// and the address, so a burst of parallel guesses is counted one by one
	// instead of all slipping under the limit together.
	var res SignIn
	var outcome error
	err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sign-in account ' || $1)),
			pg_advisory_xact_lock(hashtext('sign-in address ' || $2))`, email, address); err != nil {
			return fmt.Errorf("lock sign-in: %w", err)
		}
		var err error
		res, outcome, err = attempt(ctx, tx, th, now, email, password, address)
		return err
	})
	if err != nil {
		return SignIn{}, err
	}
	return res, outcome
}

// attempt is one sign-in under the locks: the refusal, if any, is the
// second result; the third is a failure of the database.
func attempt(ctx context.Context, tx pgx.Tx, th Throttle, now time.Time, email, password, address string) (SignIn, error, error) {
	since := now.Add(-th.Window)
	accountFails, accountUnlock, err := failures(ctx, tx, "email", email, since, th.AccountLimit, th.Window)
	if err != nil {
		return SignIn{}, nil, err
	}
	addressFails, addressUnlock, err := failures(ctx, tx, "address", address, since, th.AddressLimit, th.Window)
	if err != nil {
		return SignIn{}, nil, err
	}
	if accountFails >= th.AccountLimit || addressFails >= th.AddressLimit {
		unlock := accountUnlock
		if addressFails >= th.AddressLimit && addressUnlock.After(unlock) {
			unlock = addressUnlock
		}
		minutes := int(math.Ceil(unlock.Sub(now).Minutes()))
		minutes = max(minutes, 1)
		plural := "s"
		if minutes == 1 {
			plural = ""
		}
		msg := fmt.Sprintf("There have been too many failed attempts to sign in. Wait %d minute%s, then try again.", minutes, plural)
		return SignIn{}, &apperr.Error{Code: apperr.Forbidden, Message: msg, Fields: map[string]string{"email": msg}}, nil
	}

	u, hash, err := userByEmail(ctx, tx, email)
	ok := false
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		_, _ = VerifyPassword(dummyHash, password)
	case err != nil:
		return SignIn{}, nil, err
	case hash == "":
		_, _ = VerifyPassword(dummyHash, password)
	default:
		if ok, err = VerifyPassword(hash, password); err != nil {
			return SignIn{}, nil, fmt.Errorf("verify password of user %d: %w", u.ID, err)
		}
		ok = ok && u.Active
	}
	if !ok {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (email, address, failed_at) VALUES ($1, $2, $3)`, email, address, now); err != nil {
			return SignIn{}, nil, fmt.Errorf("record failed sign-in: %w", err)
		}
		n := max(accountFails, addressFails) + 1
		return SignIn{Delay: th.delay(n)}, ErrBadCredentials, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, email); err != nil {
		return SignIn{}, nil, fmt.Errorf("clear failed sign-ins: %w", err)
	}
	return SignIn{User: u}, nil, nil
}

// delay is how long to hold back the response after the n-th failure.
func (th Throttle) delay(n int) time.Duration {
	if n <= th.SlowAfter {
		return 0
	}
	return min(time.Duration(n-th.SlowAfter)*th.Step, th.MaxDelay)
}

// failures counts the failures for one key since a time, and when the
// limit-th newest of them leaves the window (the moment a lock lifts).
func failures(ctx context.Context, db postgres.Querier, column, key string, since time.Time, limit int, window time.Duration) (int, time.Time, error) {
	var n int
	var limitth *time.Time
	// column is one of two fixed names, never input.
	err := db.QueryRow(ctx, fmt.Sprintf(`
		SELECT count(*),
		       (SELECT failed_at FROM login_failures WHERE %[1]s = $1 AND failed_at > $2
		        ORDER BY failed_at DESC OFFSET $3 LIMIT 1)
		FROM login_failures WHERE %[1]s = $1 AND failed_at > $2`, column), key, since, limit-1).Scan(&n, &limitth)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count failed sign-ins: %w", err)
	}
	if limitth == nil {
		return n, time.Time{}, nil
	}
	return n, limitth.Add(window), nil
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

// Tidy deletes sign-in failures older than before and sessions that have
// expired: run now and then by the server, it keeps both tables small.
func Tidy(ctx context.Context, pool *pgxpool.Pool, before, now time.Time) error {
	if _, err := pool.Exec(ctx, `DELETE FROM login_failures WHERE failed_at < $1`, before); err != nil {
		return fmt.Errorf("forget old sign-in failures: %w", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < $1`, now); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
