package tracker_test

import (
	"testing"

	"ccgtracker/internal/tracker"
)

func TestVersionsListWhatChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 16)}))
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	r = f.ret()
	must(t, f.store.ReturnToCCG(ctx, f.reviewer, "16C", november, r.Version, "Check the cessation date", nil))
	r = f.ret()
	must(t, f.store.DeleteLine(ctx, f.actor, "16C", november, r.Version, r.Lines[1].ID))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 15), Note: "the 15th"}))
	r = f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))

	vs, err := tracker.Versions(ctx, f.pool, f.ret())
	must(t, err)
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
	first, second := vs[0], vs[1]
	if first.Number != 1 || first.SubmittedBy != "Bea Buyer" || first.NilReturn || len(first.Lines) != 2 || len(first.Added)+len(first.Removed) != 0 {
		t.Errorf("first version: %+v", first)
	}
	if second.Number != 2 || len(second.Lines) != 2 {
		t.Fatalf("second version: %+v", second)
	}
	if len(second.Added) != 1 || second.Added[0].Date != "2026-11-15" || second.Added[0].Note != "the 15th" {
		t.Errorf("added in version 2: %+v", second.Added)
	}
	if len(second.Removed) != 1 || second.Removed[0].Date != "2026-11-16" || second.Removed[0].Service != f.live {
		t.Errorf("removed in version 2: %+v", second.Removed)
	}
}

func TestVersionsOfANilReturn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.store.Submit(ctx, f.actor, "16C", november, f.ret().Version, true))
	vs, err := tracker.Versions(ctx, f.pool, f.ret())
	must(t, err)
	if len(vs) != 1 || !vs[0].NilReturn || len(vs[0].Lines) != 0 {
		t.Errorf("nil return versions: %+v", vs)
	}
}
