package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

func TestCreateUserWritesItsAuditRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)

	u, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "b@example.nhs.uk", Name: "B", Role: auth.Buyer, CCGCode: "16c"})
	if err != nil {
		t.Fatal(err)
	}
	if u.CCGCode != "16C" || u.CCGName != "NHS Tees Valley CCG" || u.HasPassword || !u.Active {
		t.Errorf("created %+v", u)
	}
	if scope := u.Scope(); !scope.Allows("16C") || scope.Allows("03Q") {
		t.Error("a buyer's scope must be their CCG alone")
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.create' AND entity_id = $1 AND after->>'ccg' = '16C'`, fmt.Sprint(u.ID)).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit records: %d (%v)", n, err)
	}

	cases := []struct {
		name  string
		in    auth.NewUser
		field string
	}{
		{"ErrDuplicateEmail", auth.NewUser{Email: "B@example.nhs.uk", Name: "B2", Role: auth.Admin}, "email"},
		{"ErrUnknownCCG", auth.NewUser{Email: "c@example.nhs.uk", Name: "C", Role: auth.Buyer, CCGCode: "99Z"}, "ccg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := users.CreateUser(ctx, org.System(), c.in)
			var e *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !errors.As(err, &e) || e.Fields[c.field] == "" {
				t.Errorf("%s: err = %v, want an Invalid error on %s", c.name, err, c.field)
			}
		})
	}
	// Nothing half-way: the refused users left no rows and no audit records.
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE email IN ('c@example.nhs.uk')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refused user stored: %d", n)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit rows: %d, want 1", n)
	}
}

func TestDeactivateYourselfIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	users := auth.NewStore(pool, time.Now)
	u, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "A", Role: auth.Admin})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Deactivate(ctx, u.Actor(), u.ID); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("self-deactivation: %v", err)
	}
	other, _ := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "b@example.nhs.uk", Name: "B", Role: auth.Finance})
	if err := users.Deactivate(ctx, u.Actor(), other.ID); err != nil {
		t.Fatal(err)
	}
	if err := users.Deactivate(ctx, u.Actor(), other.ID); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("second deactivation: %v, want a conflict", err)
	}
	got, _ := auth.GetUser(ctx, pool, other.ID)
	if got.Active || got.SessionEpoch != 2 {
		t.Errorf("after deactivation: active %v epoch %d", got.Active, got.SessionEpoch)
	}
}

func TestTidyDeletesOnlyWhatHasExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `
		INSERT INTO sessions (token, data, expiry) VALUES ('old', '', $1), ('live', '', $2);
		`, now.Add(-time.Minute), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO login_failures (email, address, failed_at) VALUES ('a', 'x', $1), ('b', 'x', $2)`,
		now.Add(-25*time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := auth.NewStore(pool, testkit.NewClock(now).Now).Tidy(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var sessions, failures string
	if err := pool.QueryRow(ctx, `SELECT string_agg(token, ','), (SELECT string_agg(email, ',') FROM login_failures) FROM sessions`).Scan(&sessions, &failures); err != nil {
		t.Fatal(err)
	}
	if sessions != "live" || failures != "b" {
		t.Errorf("left sessions %q and failures %q, want live and b", sessions, failures)
	}
}

// A burst of parallel guesses is counted one by one: after the limit,
// every other guess is refused without its password being tried.
func TestParallelGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := auth.NewStore(pool, time.Now).CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "A", Role: auth.Admin}); err != nil {
		t.Fatal(err)
	}
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 100, Step: time.Millisecond, MaxDelay: time.Millisecond, AccountLimit: 3, AddressLimit: 100}
	now := time.Now()
	users := auth.NewStore(pool, testkit.NewClock(now).Now)
	const guesses = 10
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = users.Authenticate(ctx, th, "a@example.nhs.uk", fmt.Sprintf("guess %d", i), "192.0.2.1")
		}()
	}
	wg.Wait()
	tried, refused := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, auth.ErrBadCredentials):
			tried++
		case apperr.Is(err, apperr.Forbidden):
			refused++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if tried != 3 || refused != guesses-3 {
		t.Errorf("%d guesses tried and %d refused; want 3 and %d", tried, refused, guesses-3)
	}
}
