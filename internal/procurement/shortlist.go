package procurement

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Candidate is a Catalogue Solution offered for the shortlist.
type Candidate struct {
	org.Item
	Shortlisted bool
}

// Orderable reports whether the solution could become an order: it is
// published with a price. Only such solutions may be shortlisted, since
// the award turns the winner into an order.
func (c Candidate) Orderable() bool { return c.Published && c.PriceCount > 0 }

// Candidates searches the catalogue's solutions (by name, id or supplier),
// marking those already on the shortlist.
func Candidates(ctx context.Context, db postgres.Querier, p Procurement, query string, page paging.Page) (paging.Result[Candidate], error) {
	res, err := org.SearchItems(ctx, db, org.ItemFilter{Query: query, Kind: org.KindSolution}, page)
	out := paging.Result[Candidate]{Total: res.Total, Page: res.Page}
	if err != nil {
		return out, err
	}
	for _, it := range res.Rows {
		_, on := p.Solution(it.ID)
		out.Rows = append(out.Rows, Candidate{Item: it, Shortlisted: on})
	}
	return out, nil
}

// AddToShortlist puts a Catalogue Solution on the shortlist, and returns
// it. It needs Prepare completed; a Direct Award shortlists exactly one
// solution. A completed Review Catalogue Solutions is reopened: the
// changed shortlist must be completed again.
func (s *Store) AddToShortlist(ctx context.Context, a org.Actor, id int64, version int, itemID string) (Solution, error) {
	now := s.now()
	var added Solution
	err := s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepReview); err != nil {
			return err
		}
		if itemID == "" {
			return apperr.Invalidf(FieldItem, "Select a Catalogue Solution to shortlist")
		}
		d, err := org.GetItem(ctx, tx, itemID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Invalidf(FieldItem, "Select a Catalogue Solution from the catalogue")
		}
		if err != nil {
			return err
		}
		switch {
		case d.Kind != org.KindSolution:
			return apperr.Invalidf(FieldItem, "%s is an %s: only Catalogue Solutions can be shortlisted", d.Name, org.KindName(d.Kind))
		case !d.Published || len(d.Prices) == 0:
			return apperr.Invalidf(FieldItem, "%s is not published on the catalogue with a price, so it cannot be ordered", d.Name)
		}
		if _, on := p.Solution(itemID); on {
			return apperr.Invalidf(FieldItem, "%s is already on the shortlist", d.Name)
		}
		if p.Procedure == DirectAward && len(p.Shortlist) >= 1 {
			return apperr.Invalidf(FieldItem, "A Direct Award shortlists exactly one solution: remove %s first", p.Shortlist[0].Name)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO procurement_shortlist (procurement_id, item_id) VALUES ($1, $2)`, id, itemID); err != nil {
			return fmt.Errorf("shortlist %s: %w", itemID, err)
		}
		if err := reopen(ctx, tx, now, p, StepReview); err != nil {
			return err
		}
		added = Solution{ItemID: itemID, Name: d.Name, SupplierID: d.SupplierID, SupplierName: d.SupplierName}
		return record(ctx, tx, now, a.ID, "procurement.shortlist_add", id, nil, map[string]any{"item": itemID})
	})
	return added, err
}

// RemoveFromShortlist takes a solution off the shortlist, with its scores,
// and reopens a completed Review Catalogue Solutions. It returns the
// solution it took off.
func (s *Store) RemoveFromShortlist(ctx context.Context, a org.Actor, id int64, version int, itemID string) (Solution, error) {
	now := s.now()
	var removed Solution
	err := s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepReview); err != nil {
			return err
		}
		sl, on := p.Solution(itemID)
		if !on {
			return apperr.Invalidf(FieldItem, "That solution is not on the shortlist")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM procurement_scores WHERE procurement_id = $1 AND item_id = $2`, id, itemID); err != nil {
			return fmt.Errorf("scores of %s: %w", itemID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM procurement_shortlist WHERE procurement_id = $1 AND item_id = $2`, id, itemID); err != nil {
			return fmt.Errorf("unshortlist %s: %w", itemID, err)
		}
		if err := reopen(ctx, tx, now, p, StepReview); err != nil {
			return err
		}
		removed = sl
		return record(ctx, tx, now, a.ID, "procurement.shortlist_remove", id, map[string]any{"item": sl.ItemID}, nil)
	})
	return removed, err
}

// CheckShortlist says what stops the shortlist from completing Review
// Catalogue Solutions, "" when nothing does.
func CheckShortlist(p Procurement) string {
	switch {
	case p.Procedure == DirectAward && len(p.Shortlist) != 1:
		return fmt.Sprintf("A Direct Award shortlists exactly one solution: the shortlist has %d", len(p.Shortlist))
	case len(p.Shortlist) == 0:
		return "Shortlist at least one Catalogue Solution"
	}
	return ""
}

// CompleteReview completes Review Catalogue Solutions: at least one
// solution shortlisted, exactly one for a Direct Award.
func (s *Store) CompleteReview(ctx context.Context, a org.Actor, id int64, version int) error {
	now := s.now()
	return s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepReview); err != nil {
			return err
		}
		if p.State(StepReview).Status == Completed {
			return &apperr.Error{Code: apperr.Conflict, Err: ErrStepClosed, Message: StepReview.Name() + " is already completed."}
		}
		if msg := CheckShortlist(p); msg != "" {
			return apperr.Invalidf(FieldItem, "%s", msg)
		}
		if err := setStep(ctx, tx, now, a.ID, id, StepReview, Completed); err != nil {
			return err
		}
		ids := make([]string, len(p.Shortlist))
		for i, s := range p.Shortlist {
			ids[i] = s.ItemID
		}
		return record(ctx, tx, now, a.ID, "procurement.review", id, nil, map[string]any{"shortlist": ids})
	})
}
