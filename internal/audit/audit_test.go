package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
)

var ctx = context.Background()

func TestSearchFiltersAndPagesRealRows(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	var ada, rita, buyer int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, role) VALUES ('ada@example.nhs.uk', 'Ada Admin', 'admin') RETURNING id`).Scan(&ada); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, role) VALUES ('rita@example.nhs.uk', 'Rita Reviewer', 'reviewer') RETURNING id`).Scan(&rita); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, role, ccg_code) VALUES ('bea@example.nhs.uk', 'Bea', 'buyer', '03Q') RETURNING id`).Scan(&buyer); err != nil {
		t.Fatal(err)
	}
	// 30 days of November 2026 (London): Rita accepts 16C's return each
	// day at 23:30 (the next day in UTC for none of them: GMT), Ada
	// changes Bea's user on even days, and the system issues returns on the 1st.
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		for d := 1; d <= 30; d++ {
			at := time.Date(2026, 11, d, 23, 30, 0, 0, dates.London)
			if err := audit.Record(ctx, tx, audit.Event{
				At:         at,
				By:         &rita,
				Action:     "return.accept",
				EntityType: "return",
				EntityID:   "16C/2026-10",
				Before:     map[string]any{"status": "submitted"},
				After:      map[string]any{"status": "accepted", "services_changed": d},
			}); err != nil {
				return err
			}
			if d%2 == 0 {
				if err := audit.Record(ctx, tx, audit.Event{
					At:         at.Add(time.Minute),
					By:         &ada,
					Action:     "user.update",
					EntityType: "user",
					EntityID:   fmt.Sprint(buyer),
					Before:     map[string]any{"name": "Bea", "active": true},
					After:      map[string]any{"name": fmt.Sprintf("Bea %d", d), "active": true},
				}); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         time.Date(2026, 11, 1, 1, 0, 0, 0, dates.London),
			By:         nil,
			Action:     "returns.issue",
			EntityType: "period",
			EntityID:   "2026-10",
			After:      map[string]any{"returns": 106},
		})
	}); err != nil {
		t.Fatal(err)
	}
	day := func(d int) *time.Time { t := dates.Date(2026, 11, d); return &t }
	search := func(f audit.Filter, page, size int) paging.Result[audit.Entry] {
		t.Helper()
		res, err := audit.Search(ctx, pool, f, paging.Page{Number: page, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cases := []struct {
		name  string
		f     audit.Filter
		total int
	}{
		{"all", audit.Filter{}, 46},
		{"who by email", audit.Filter{Who: "RITA@"}, 30},
		{"who by name", audit.Filter{Who: "ada adm"}, 15},
		{"the system", audit.Filter{Who: "system"}, 1},
		{"nobody", audit.Filter{Who: "mallory"}, 0},
		{"a wildcard is a character", audit.Filter{Who: "%"}, 0},
		{"CCG of a return", audit.Filter{CCGCode: "16c"}, 30},
		{"CCG of a user", audit.Filter{CCGCode: "03Q"}, 15},
		{"kind", audit.Filter{EntityType: "user"}, 15},
		{"object", audit.Filter{EntityType: "return", EntityID: "16C/2026-10"}, 30},
		{"another object", audit.Filter{EntityType: "return", EntityID: "03Q/2026-10"}, 0},
		{"one London day", audit.Filter{From: day(10), To: day(10)}, 2},
		{"a range", audit.Filter{Who: "rita", From: day(5), To: day(14)}, 10},
		{"from", audit.Filter{From: day(29)}, 3},
	}
	for _, c := range cases {
		if res := search(c.f, 1, 100); res.Total != c.total || len(res.Rows) != c.total {
			t.Errorf("%s: %d rows of %d, want %d", c.name, len(res.Rows), res.Total, c.total)
		}
	}
	// Pages of 20, newest first, cut in SQL: 46 entries make 3 pages.
	p1, p3 := search(audit.Filter{}, 1, 20), search(audit.Filter{}, 3, 20)
	if p1.Pages() != 3 || len(p1.Rows) != 20 || len(p3.Rows) != 6 {
		t.Fatalf("pages: %d, %d rows on the first, %d on the last", p1.Pages(), len(p1.Rows), len(p3.Rows))
	}
	if p1.Rows[0].Action != "user.update" || !p1.Rows[0].At.Equal(time.Date(2026, 11, 30, 23, 31, 0, 0, dates.London)) {
		t.Errorf("newest first: %+v", p1.Rows[0])
	}
	if last := p3.Rows[len(p3.Rows)-1]; last.Action != "returns.issue" || last.ActorEmail != "system" {
		t.Errorf("oldest last: %+v", last)
	}
	seen := map[int64]bool{}
	for page := 1; page <= 3; page++ {
		for _, e := range search(audit.Filter{}, page, 20).Rows {
			if seen[e.ID] {
				t.Errorf("entry %d on two pages", e.ID)
			}
			seen[e.ID] = true
		}
	}
	if len(seen) != 46 {
		t.Errorf("%d entries over the pages, want 46", len(seen))
	}
}

func TestEntriesReadInWords(t *testing.T) {
	e := audit.Entry{
		Before: []byte(`{"status": "submitted", "email": "b@example.nhs.uk", "active": true}`),
		After:  []byte(`{"status": "accepted", "email": "b@example.nhs.uk", "active": false, "m2": "2026-11-03", "targets": ["A81001", "A81002"], "nil_return": false}`),
	}
	var got []string
	for _, c := range e.Changes() {
		got = append(got, c.Field+"="+c.Before+">"+c.After)
	}
	want := "Active=Yes>No|Nil return=>No|Status=submitted>accepted|Targets=>A81001, A81002|Verified (M2)=>3 November 2026|Email=b@example.nhs.uk>b@example.nhs.uk"
	if strings.Join(got, "|") != want {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if n := audit.ActionName("return.accept"); n != "Return accepted" {
		t.Errorf("action %q", n)
	}
	if n := audit.EntityName("service_instance"); n != "Service" {
		t.Errorf("entity %q", n)
	}
	// A creation has no before; a lone value reads as one.
	if cs := (audit.Entry{After: []byte(`3`)}).Changes(); len(cs) != 1 || cs[0].Field != "Value" || cs[0].After != "3" || cs[0].Before != "" {
		t.Errorf("lone value: %+v", cs)
	}
}
