package tracker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/links"
	"ccgtracker/internal/outbox"
)

// The messages a review causes, queued in the review's own transaction so
// that they exist exactly when the change does. Each key names the return
// and the version the change made, so a message is queued once per event.

// returnPath is the return's page, which the messages link to.
func returnPath(r Return) string { return links.Return(r.CCGCode, r.Period.String()) }

// lineWords describes a change line as a buyer reads it.
func lineWords(l Line) string {
	s := fmt.Sprintf("%s at %s (%s)", l.Kind.Name(), l.PracticeName, l.PracticeCode)
	if l.InstanceRef != "" {
		s += ", service " + l.InstanceRef
		if l.ItemName != "" {
			s += " (" + l.ItemName + ")"
		}
	}
	return s + ", dated " + dates.Long(l.Date)
}

// notify queues one message to each of people, keyed by kind, the
// return, the version and the person.
func notify(ctx context.Context, tx pgx.Tx, now time.Time, kind outbox.Kind, r Return, version int, people []auth.User, path, subject string, body func(auth.User) string) error {
	for _, u := range people {
		if _, err := outbox.Enqueue(ctx, tx, now, outbox.Message{
			Key:  fmt.Sprintf("%s:%d:%d:%d", kind, r.ID, version, u.ID),
			Kind: kind, UserID: u.ID, To: u.Email, Subject: subject, Body: body(u), Path: path,
		}); err != nil {
			return err
		}
	}
	return nil
}

// notifyReturned tells the CCG's active buyers that a reviewer sent their
// return back, with the overall comment and each line's.
func notifyReturned(ctx context.Context, tx pgx.Tx, now time.Time, r Return, comment string, lineComments map[int64]string) error {
	buyers, err := auth.Active(ctx, tx, auth.Buyer, r.CCGCode)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NHS Digital has sent %s's Order Tracker return for %s back to you. Please put right what the reviewer asks and submit it again.", r.CCGName, r.Period.Name())
	if comment != "" {
		fmt.Fprintf(&b, "\n\nThe reviewer's comment:\n%s", comment)
	}
	first := true
	for i, l := range r.Lines {
		c := strings.TrimSpace(lineComments[l.ID])
		if c == "" {
			continue
		}
		if first {
			b.WriteString("\n\nComments on changes:")
			first = false
		}
		fmt.Fprintf(&b, "\n- Change %d, %s: %s", i+1, lineWords(l), c)
	}
	text := b.String()
	return notify(ctx, tx, now, outbox.ReturnReturned, r, r.Version+1, buyers, returnPath(r),
		fmt.Sprintf("Your Order Tracker return for %s has been sent back", r.Period.Name()),
		func(u auth.User) string { return "Dear " + u.Name + ",\n\n" + text })
}

// notifyAccepted tells the CCG's active buyers that their return was
// accepted: which changes were applied to the service ledger, and which
// wait, as requested changes, for the return of the month they happen in.
func notifyAccepted(ctx context.Context, tx pgx.Tx, now time.Time, r Return, done Acceptance) error {
	buyers, err := auth.Active(ctx, tx, auth.Buyer, r.CCGCode)
	if err != nil {
		return err
	}
	var applied, waiting []string
	for _, l := range done.Applied {
		applied = append(applied, "- "+lineWords(l))
	}
	for _, l := range done.Waiting {
		waiting = append(waiting, "- "+lineWords(l))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NHS Digital has accepted %s's Order Tracker return for %s.", r.CCGName, r.Period.Name())
	switch {
	case r.NilReturn:
		b.WriteString(" It said there were no changes this month, so nothing was changed.")
	case len(applied) > 0:
		b.WriteString("\n\nApplied to the service ledger:\n" + strings.Join(applied, "\n"))
	default:
		b.WriteString("\n\nNo change was dated in the month, so the service ledger is as it was.")
	}
	if len(waiting) > 0 {
		b.WriteString("\n\nRequested, waiting for their date (they come back on the return of the month they happen in):\n" + strings.Join(waiting, "\n"))
	}
	text := b.String()
	return notify(ctx, tx, now, outbox.ReturnAccepted, r, r.Version+1, buyers, returnPath(r),
		fmt.Sprintf("Your Order Tracker return for %s has been accepted", r.Period.Name()),
		func(u auth.User) string { return "Dear " + u.Name + ",\n\n" + text })
}

// notifyResubmitted tells every active reviewer, at once, that a return
// they sent back has come back (docs/rules.md says why at once).
func notifyResubmitted(ctx context.Context, tx pgx.Tx, now time.Time, r Return, lines int, nilReturn bool) error {
	reviewers, err := auth.Active(ctx, tx, auth.Reviewer, "")
	if err != nil {
		return err
	}
	what := fmt.Sprintf("with %d %s", lines, pluralWord(lines, "change", "changes"))
	if nilReturn {
		what = "as a nil return (no changes)"
	}
	text := fmt.Sprintf("%s (%s) has submitted its Order Tracker return for %s again, %s, after it was sent back. It is ready for review.",
		r.CCGName, r.CCGCode, r.Period.Name(), what)
	return notify(ctx, tx, now, outbox.ReturnResubmitted, r, r.Version+1, reviewers, returnPath(r)+"/review",
		fmt.Sprintf("%s has resubmitted its Order Tracker return for %s", r.CCGName, r.Period.Name()),
		func(u auth.User) string { return "Dear " + u.Name + ",\n\n" + text })
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
