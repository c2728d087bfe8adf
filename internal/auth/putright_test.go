package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

// signedInSession stores a session for userID through the store the
// server uses, as scs encodes it, and returns its token.
func signedInSession(t *testing.T, store auth.SessionStore, token string, userID int64, expiry time.Time) {
	t.Helper()
	b, err := scs.GobCodec{}.Encode(expiry, map[string]any{"user_id": userID, "epoch": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Commit(token, b, expiry); err != nil {
		t.Fatal(err)
	}
}

func sessionsOf(t *testing.T, pool *pgxpool.Pool, userID int64) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestARoleOrCCGChangeEndsTheUsersSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)
	store := auth.SessionStore{Pool: pool, UserKey: "user_id"}
	admin, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "Ada", Role: auth.Admin})
	must(t, err)
	b, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "b@example.nhs.uk", Name: "Bea", Role: auth.Buyer, CCGCode: "16C"})
	must(t, err)
	other, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "c@example.nhs.uk", Name: "Cy", Role: auth.Buyer, CCGCode: "16C"})
	must(t, err)
	expiry := time.Now().Add(time.Hour)
	signedInSession(t, store, "b-laptop", b.ID, expiry)
	signedInSession(t, store, "b-phone", b.ID, expiry)
	signedInSession(t, store, "c-laptop", other.ID, expiry)
	if _, found, err := store.Find("b-laptop"); err != nil || !found {
		t.Fatalf("stored session not found: %v", err)
	}

	// A new name alone changes nothing the user may do: sessions go on.
	up, err := users.UpdateUser(ctx, admin.Actor(), b.ID, auth.UserChange{Name: "Bea Baker", Role: auth.Buyer, CCGCode: "16C", Version: auth.UserVersion(b)})
	must(t, err)
	b = up.User
	if b.Name != "Bea Baker" || sessionsOf(t, pool, b.ID) != 2 || up.SignedOut {
		t.Fatalf("after a name change: %q, %d sessions", b.Name, sessionsOf(t, pool, b.ID))
	}
	// A new CCG: every session of hers ends, in the change's transaction.
	before := b
	up, err = users.UpdateUser(ctx, admin.Actor(), b.ID, auth.UserChange{Name: "Bea Baker", Role: auth.Buyer, CCGCode: "03q", Version: auth.UserVersion(b)})
	must(t, err)
	b = up.User
	if b.CCGCode != "03Q" || sessionsOf(t, pool, b.ID) != 0 || b.SessionEpoch == before.SessionEpoch || !up.SignedOut {
		t.Errorf("after a CCG change: %s, %d sessions, epoch %d", b.CCGCode, sessionsOf(t, pool, b.ID), b.SessionEpoch)
	}
	if sessionsOf(t, pool, other.ID) != 1 {
		t.Error("another user's session ended")
	}
	// A new role likewise.
	signedInSession(t, store, "b-again", b.ID, expiry)
	up, err = users.UpdateUser(ctx, admin.Actor(), b.ID, auth.UserChange{Name: "Bea Baker", Role: auth.Reviewer, CCGCode: "03Q", Version: auth.UserVersion(b)})
	must(t, err)
	b = up.User
	if b.Role != auth.Reviewer || b.CCGCode != "" || sessionsOf(t, pool, b.ID) != 0 || !up.SignedOut {
		t.Errorf("after a role change: %s %q, %d sessions", b.Role, b.CCGCode, sessionsOf(t, pool, b.ID))
	}
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.update' AND entity_id = $1`, fmt.Sprint(b.ID)).Scan(&n))
	if n != 3 {
		t.Errorf("%d audit records of the three changes", n)
	}
	var role string
	must(t, pool.QueryRow(ctx, `SELECT (before->>'role') || '>' || (after->>'role') FROM audit_log WHERE action = 'user.update' ORDER BY id DESC LIMIT 1`).Scan(&role))
	if role != "buyer>reviewer" {
		t.Errorf("the role change is recorded as %q", role)
	}
}

func TestUpdateUserRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)
	admin, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "Ada", Role: auth.Admin})
	must(t, err)
	b, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "b@example.nhs.uk", Name: "Bea", Role: auth.Buyer, CCGCode: "16C"})
	must(t, err)
	cases := []struct {
		name  string
		id    int64
		in    auth.UserChange
		code  apperr.Code
		field string
	}{
		{"ErrNoName", b.ID, auth.UserChange{Name: " ", Role: auth.Buyer, CCGCode: "16C", Version: auth.UserVersion(b)}, apperr.Invalid, "name"},
		{"ErrBuyerWithoutCCG", b.ID, auth.UserChange{Name: "Bea", Role: auth.Buyer, Version: auth.UserVersion(b)}, apperr.Invalid, "ccg"},
		{"ErrUnknownCCG", b.ID, auth.UserChange{Name: "Bea", Role: auth.Buyer, CCGCode: "99Z", Version: auth.UserVersion(b)}, apperr.Invalid, "ccg"},
		{"ErrNoRole", b.ID, auth.UserChange{Name: "Bea", Role: "boss", Version: auth.UserVersion(b)}, apperr.Invalid, "role"},
		{"ErrOwnAdminRole", admin.ID, auth.UserChange{Name: "Ada", Role: auth.Reviewer, Version: auth.UserVersion(admin)}, apperr.Invalid, "role"},
		{"ErrStale", b.ID, auth.UserChange{Name: "Bea B", Role: auth.Buyer, CCGCode: "16C", Version: "1.true.buyer.16C.Someone else"}, apperr.Conflict, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := users.UpdateUser(ctx, admin.Actor(), c.id, c.in)
			if !apperr.Is(err, c.code) {
				t.Errorf("%s: %v", c.name, err)
				return
			}
			if c.field != "" && fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: no message on %s: %v", c.name, c.field, err)
			}
		})
	}
	got, err := auth.GetUser(ctx, pool, b.ID)
	must(t, err)
	if got.Name != "Bea" || got.Role != auth.Buyer || got.CCGCode != "16C" {
		t.Errorf("a refused change was saved: %+v", got)
	}
}

func TestReactivateAndSearchUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)
	admin, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "Ada Admin", Role: auth.Admin})
	must(t, err)
	for i, n := range []auth.NewUser{
		{Email: "bea@example.nhs.uk", Name: "Bea Buyer", Role: auth.Buyer, CCGCode: "16C"},
		{Email: "ben@example.nhs.uk", Name: "Ben Buyer", Role: auth.Buyer, CCGCode: "03Q"},
		{Email: "rita@example.nhs.uk", Name: "Rita Reviewer", Role: auth.Reviewer},
		{Email: "under_score@example.nhs.uk", Name: "Una", Role: auth.Finance},
	} {
		u, err := users.CreateUser(ctx, org.System(), n)
		must(t, err)
		if i == 1 {
			must(t, users.Deactivate(ctx, admin.Actor(), u.ID))
			if err := users.Deactivate(ctx, admin.Actor(), u.ID); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("deactivated twice: %v", err)
			}
		}
	}
	search := func(t *testing.T, f auth.UserFilter, page int) (string, int) {
		t.Helper()
		res, err := auth.SearchUsers(ctx, pool, f, paging.Page{Number: page, Size: 2})
		must(t, err)
		var names []string
		for _, u := range res.Rows {
			names = append(names, u.Name)
		}
		return strings.Join(names, ","), res.Total
	}
	checks := []struct {
		f     auth.UserFilter
		page  int
		want  string
		total int
	}{
		{auth.UserFilter{}, 1, "Ada Admin,Bea Buyer", 5},
		{auth.UserFilter{}, 3, "Ben Buyer", 5}, // deactivated last
		{auth.UserFilter{Query: "BUYER"}, 1, "Bea Buyer,Ben Buyer", 2},
		{auth.UserFilter{Query: "rita@"}, 1, "Rita Reviewer", 1},
		{auth.UserFilter{Query: "_"}, 1, "Una", 1}, // a LIKE wildcard is a character
		{auth.UserFilter{Role: auth.Buyer, CCGCode: "03q"}, 1, "Ben Buyer", 1},
		{auth.UserFilter{Status: "deactivated"}, 1, "Ben Buyer", 1},
		{auth.UserFilter{Status: "active", Role: auth.Buyer}, 1, "Bea Buyer", 1},
	}
	for _, c := range checks {
		t.Run(fmt.Sprintf("%+v page %d", c.f, c.page), func(t *testing.T) {
			if got, total := search(t, c.f, c.page); got != c.want || total != c.total {
				t.Errorf("%+v page %d: %q of %d, want %q of %d", c.f, c.page, got, total, c.want, c.total)
			}
		})
	}
	res, _ := auth.SearchUsers(ctx, pool, auth.UserFilter{Status: "deactivated"}, paging.Page{Number: 1, Size: 2})
	ben := res.Rows[0]
	must(t, users.Reactivate(ctx, admin.Actor(), ben.ID))
	if err := users.Reactivate(ctx, admin.Actor(), ben.ID); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("reactivated twice: %v", err)
	}
	ben, err = auth.GetUser(ctx, pool, ben.ID)
	must(t, err)
	if !ben.Active {
		t.Error("not active after reactivation")
	}
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.reactivate' AND entity_id = $1 AND after->>'active' = 'true'`, fmt.Sprint(ben.ID)).Scan(&n))
	if n != 1 {
		t.Errorf("%d reactivation audit records", n)
	}
}

func TestPasswordLinkIsEmailedInItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	users := auth.NewStore(pool, testkit.NewClock(now).Now)
	admin, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "a@example.nhs.uk", Name: "Ada", Role: auth.Admin})
	must(t, err)
	b, err := users.CreateUser(ctx, org.System(), auth.NewUser{Email: "b@example.nhs.uk", Name: "Bea", Role: auth.Buyer, CCGCode: "16C"})
	must(t, err)
	token, err := users.IssuePasswordLink(ctx, admin.Actor(), b.ID)
	must(t, err)
	var to, path, body string
	var userID int64
	must(t, pool.QueryRow(ctx, `SELECT to_address, link_path, body, user_id FROM outbox WHERE kind = 'password_link'`).Scan(&to, &path, &body, &userID))
	if to != "b@example.nhs.uk" || userID != b.ID || path != "/set-password/"+token || !strings.Contains(body, "Dear Bea") {
		t.Errorf("queued to %s (user %d) with %s: %s", to, userID, path, body)
	}
	// The emailed link is the one that works.
	if u, err := auth.PasswordLinkUser(ctx, pool, now, strings.TrimPrefix(path, "/set-password/")); err != nil || u.ID != b.ID {
		t.Errorf("the emailed link: %v", err)
	}
	// A refused link (deactivated user) queues nothing.
	must(t, users.Deactivate(ctx, admin.Actor(), b.ID))
	if _, err := users.IssuePasswordLink(ctx, admin.Actor(), b.ID); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("link for a deactivated user: %v", err)
	}
	var n int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n))
	if n != 1 {
		t.Errorf("%d messages, want the one link", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fieldsOf(err error) map[string]string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
