package tracker_test

import (
	"strings"
	"testing"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
)

// message is one row of the outbox as a test reads it.
type message struct {
	Kind, To, Subject, Body, Path string
}

func (f *fixture) messages(kind string) []message {
	f.t.Helper()
	rows, err := f.pool.Query(ctx, `SELECT kind, to_address, subject, body, link_path FROM outbox WHERE kind = $1 ORDER BY to_address`, kind)
	must(f.t, err)
	var out []message
	for rows.Next() {
		var m message
		must(f.t, rows.Scan(&m.Kind, &m.To, &m.Subject, &m.Body, &m.Path))
		out = append(out, m)
	}
	must(f.t, rows.Err())
	return out
}

func recipients(ms []message) string {
	var to []string
	for _, m := range ms {
		to = append(to, m.To)
	}
	return strings.Join(to, ",")
}

// TestReviewNotifiesThePeopleAroundTheReturnOnce follows a return through
// its review: each change queues its messages once, to the CCG's active
// buyers (never another CCG's, never a deactivated one) or to the active
// reviewers, and a change refused queues nothing.
func TestReviewNotifiesThePeopleAroundTheReturnOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var reviewer int64
	_, err := f.pool.Exec(ctx, `
		INSERT INTO users (email, name, role, ccg_code) VALUES ('b2@example.nhs.uk', 'Ben Buyer', 'buyer', '16C');
		INSERT INTO users (email, name, role, ccg_code, active) VALUES ('gone@example.nhs.uk', 'Gone Buyer', 'buyer', '16C', false);
		INSERT INTO users (email, name, role, ccg_code) VALUES ('other@example.nhs.uk', 'Other CCG', 'buyer', '03Q');
		INSERT INTO users (email, name, role, active) VALUES ('old-r@example.nhs.uk', 'Old Reviewer', 'reviewer', false);
		INSERT INTO users (email, name, role) VALUES ('fin@example.nhs.uk', 'Finn', 'finance')`)
	must(t, err)
	must(t, f.pool.QueryRow(ctx, `INSERT INTO users (email, name, role) VALUES ('r@example.nhs.uk', 'Rita Reviewer', 'reviewer') RETURNING id`).Scan(&reviewer))
	rita := org.UserActor(reviewer, org.AllCCGs())

	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2027, 1, 10)}))
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	if ms := f.messages("return_resubmitted"); len(ms) != 0 {
		t.Errorf("a first submission told reviewers: %v", ms)
	}

	// Refused changes queue nothing.
	r = f.ret()
	if err := f.store.ReturnToCCG(ctx, rita, "16C", november, r.Version, "", nil); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("send back without a comment: %v", err)
	}
	if err := f.store.ReturnToCCG(ctx, rita, "16C", november, r.Version-1, "Stale", nil); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("send back a version behind: %v", err)
	}
	if ms := f.messages("return_returned"); len(ms) != 0 {
		t.Fatalf("refused send-backs queued %v", ms)
	}

	must(t, f.store.ReturnToCCG(ctx, rita, "16C", november, r.Version, "Please check the go-live dates.",
		map[int64]string{r.Lines[1].ID: "Is January right?"}))
	back := f.messages("return_returned")
	if got := recipients(back); got != "b2@example.nhs.uk,b@example.nhs.uk" {
		t.Fatalf("sent back: told %q, want the two active buyers of 16C", got)
	}
	for _, m := range back {
		for _, want := range []string{"sent NHS Tees Valley CCG's Order Tracker return for November 2026 back", "Please check the go-live dates.",
			"Change 2, Activation (went live) at QUEENS PARK MEDICAL CENTRE (A81002), service " + f.planned[1], "Is January right?"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("message to %s lacks %q:\n%s", m.To, want, m.Body)
			}
		}
		if m.Path != "/ccgs/16C/returns/2026-11" {
			t.Errorf("link %q", m.Path)
		}
	}

	// Submitted again: the active reviewers are told at once, once.
	r = f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false)) // a double click
	again := f.messages("return_resubmitted")
	if got := recipients(again); got != "r@example.nhs.uk" {
		t.Fatalf("resubmitted: told %q, want the active reviewer", got)
	}
	if !strings.Contains(again[0].Body, "with 2 changes") || again[0].Path != "/ccgs/16C/returns/2026-11/review" {
		t.Errorf("resubmitted message: %+v", again[0])
	}

	r = f.ret()
	if _, err := f.store.Accept(ctx, rita, "16C", november, r.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Accept(ctx, rita, "16C", november, f.ret().Version); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second accept: %v", err)
	}
	accepted := f.messages("return_accepted")
	if got := recipients(accepted); got != "b2@example.nhs.uk,b@example.nhs.uk" {
		t.Fatalf("accepted: told %q, want the two active buyers of 16C", got)
	}
	body := accepted[0].Body
	applied, waiting, ok := strings.Cut(body, "Requested, waiting for their date")
	if !ok || !strings.Contains(applied, "Applied to the service ledger:") || !strings.Contains(applied, f.planned[0]) ||
		!strings.Contains(waiting, f.planned[1]) || strings.Contains(applied, f.planned[1]) {
		t.Errorf("accepted message does not say what was applied and what waits:\n%s", body)
	}
	var total int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE to_address IN ('other@example.nhs.uk', 'gone@example.nhs.uk', 'old-r@example.nhs.uk', 'fin@example.nhs.uk')`).Scan(&total))
	if total != 0 {
		t.Errorf("%d messages to people outside the return", total)
	}
}

// TestAFailedAcceptanceQueuesNothing makes the acceptance's transaction
// fail after its messages were written (its audit record is refused): the
// return stays submitted and no message is left in the outbox, as they
// were written in that transaction.
func TestAFailedAcceptanceQueuesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.store.Submit(ctx, f.actor, "16C", november, f.ret().Version, false))
	_, err := f.pool.Exec(ctx, `
		CREATE FUNCTION refuse_accept() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action = 'return.accept' THEN RAISE EXCEPTION 'audit refused'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_accept BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_accept()`)
	must(t, err)
	if _, err := f.store.Accept(ctx, f.reviewer, "16C", november, f.ret().Version); err == nil || !strings.Contains(err.Error(), "audit refused") {
		t.Fatalf("accept with its audit refused: %v", err)
	}
	if ms := f.messages("return_accepted"); len(ms) != 0 {
		t.Errorf("a failed acceptance left %d messages", len(ms))
	}
	if r := f.ret(); r.Status != tracker.Submitted {
		t.Errorf("return is %s after the failed acceptance", r.Status)
	}
	// Without the fault the same acceptance goes through, with its message.
	_, err = f.pool.Exec(ctx, `DROP TRIGGER refuse_accept ON audit_log`)
	must(t, err)
	if _, err := f.store.Accept(ctx, f.reviewer, "16C", november, f.ret().Version); err != nil {
		t.Fatal(err)
	}
	if ms := f.messages("return_accepted"); len(ms) != 1 {
		t.Errorf("%d messages after the acceptance, want 1", len(ms))
	}
}

// TestIssuePreviewCountsTheLateAtOnce: a past month's returns whose due
// day has ended are counted as late at once, and nothing is issued.
func TestIssuePreviewCountsTheLateAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	oct, _ := tracker.ParsePeriod("2026-10")
	pv, err := tracker.PreviewIssue(ctx, f.pool, now, oct)
	must(t, err)
	var active int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM ccgs WHERE active`).Scan(&active))
	// October's returns were due in November: every one is late on 10 December.
	if !pv.Past || pv.Issue != active || pv.Late != active {
		t.Errorf("October on 10 December: %+v, want %d to issue, all late", pv, active)
	}
	var issued int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM tracker_returns WHERE period = '2026-10-01'`).Scan(&issued))
	if issued != 0 {
		t.Errorf("the preview issued %d returns", issued)
	}
	// November's are due in December: on 10 December some are due yet.
	pv, err = tracker.PreviewIssue(ctx, f.pool, now, november)
	must(t, err)
	if pv.Issue != 0 || !pv.Past {
		t.Errorf("November, already issued: %+v", pv)
	}
	dec, _ := tracker.ParsePeriod("2026-12")
	if pv, err = tracker.PreviewIssue(ctx, f.pool, now, dec); err != nil || pv.Past || pv.Late != 0 {
		t.Errorf("December in December: %+v %v", pv, err)
	}
}
