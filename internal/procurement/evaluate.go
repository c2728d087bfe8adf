package procurement

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/org"
)

// MaxScore is the best score a solution can get against a criterion.
const MaxScore = 100

// ScoreInput is one score as typed: blank means not scored yet.
type ScoreInput struct {
	ItemID      string
	CriterionID int64
	Score       string
}

// SaveScores saves the scores of Evaluate, each a whole number 0-100;
// complete also completes the step, which needs every solution scored
// against every criterion. Saving without completing leaves the step (or
// sets it back) not started. Nothing is saved if anything is wrong.
func (s *Store) SaveScores(ctx context.Context, a org.Actor, id int64, version int, scores []ScoreInput, complete bool) error {
	now := s.now()
	return s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepEvaluate); err != nil {
			return err
		}
		criteria := map[int64]Criterion{}
		for _, c := range p.Criteria {
			criteria[c.ID] = c
		}
		errs := map[string]string{}
		set := map[ScoreKey]int{}
		var clear []ScoreKey
		for _, in := range scores {
			s, onList := p.Solution(in.ItemID)
			c, isCriterion := criteria[in.CriterionID]
			if !onList || !isCriterion {
				// The shortlist or criteria changed since the form was drawn.
				return errChanged(id)
			}
			k := ScoreKey{in.ItemID, in.CriterionID}
			field := FieldScore(in.ItemID, in.CriterionID)
			typed := strings.TrimSpace(in.Score)
			n, err := strconv.Atoi(typed)
			switch {
			case typed == "":
				clear = append(clear, k)
			case err != nil:
				errs[field] = fmt.Sprintf("The score of %s for %s must be a whole number, like 75", s.Name, c.Name)
			case n < 0 || n > MaxScore:
				errs[field] = fmt.Sprintf("The score of %s for %s must be between 0 and %d", s.Name, c.Name, MaxScore)
			default:
				set[k] = n
			}
		}
		if len(errs) > 0 {
			return invalid("The scores could not be saved", errs)
		}
		after := map[ScoreKey]int{}
		for k, v := range p.Scores {
			after[k] = v
		}
		for _, k := range clear {
			delete(after, k)
		}
		for k, v := range set {
			after[k] = v
		}
		if complete {
			for _, s := range p.Shortlist {
				for _, c := range p.Criteria {
					if _, ok := after[ScoreKey{s.ItemID, c.ID}]; !ok {
						errs[FieldScore(s.ItemID, c.ID)] = fmt.Sprintf("Enter a score for %s against %s", s.Name, c.Name)
					}
				}
			}
			if len(errs) > 0 {
				return invalid("Evaluate cannot be completed until every solution is scored against every criterion", errs)
			}
		}
		for _, k := range clear {
			if _, err := tx.Exec(ctx, `DELETE FROM procurement_scores WHERE procurement_id = $1 AND item_id = $2 AND criterion_id = $3`,
				id, k.ItemID, k.CriterionID); err != nil {
				return fmt.Errorf("clear score: %w", err)
			}
		}
		for k, v := range set {
			if _, err := tx.Exec(ctx, `
				INSERT INTO procurement_scores (procurement_id, item_id, criterion_id, score) VALUES ($1, $2, $3, $4)
				ON CONFLICT (procurement_id, item_id, criterion_id) DO UPDATE SET score = EXCLUDED.score`,
				id, k.ItemID, k.CriterionID, v); err != nil {
				return fmt.Errorf("save score: %w", err)
			}
		}
		status := NotStarted
		if complete {
			status = Completed
		}
		if err := setStep(ctx, tx, now, a.ID, id, StepEvaluate, status); err != nil {
			return err
		}
		action := "procurement.scores"
		if complete {
			action = "procurement.evaluate"
		}
		return record(ctx, tx, now, a.ID, action, id, scoresView(p, p.Scores), scoresView(p, after))
	})
}

// scoresView is the scores for the audit log: solution, then criterion name.
func scoresView(p Procurement, scores map[ScoreKey]int) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, c := range p.Criteria {
		for _, s := range p.Shortlist {
			if v, ok := scores[ScoreKey{s.ItemID, c.ID}]; ok {
				if out[s.ItemID] == nil {
					out[s.ItemID] = map[string]int{}
				}
				out[s.ItemID][c.Name] = v
			}
		}
	}
	return out
}

// Ranked is a shortlisted solution with its weighted score.
type Ranked struct {
	Solution
	// Rank counts from 1; equal weighted scores share a rank (1, 1, 3).
	Rank int
	// Hundredths is the weighted score Σ score × weight / 100 in
	// hundredths, that is Σ score × weight: exact, with no float.
	Hundredths int
	// Scored is how many criteria the solution has a score for.
	Scored int
}

// Weighted prints the weighted score to two decimal places: 72.50.
func (r Ranked) Weighted() string { return fmt.Sprintf("%d.%02d", r.Hundredths/100, r.Hundredths%100) }

// Ranking ranks the shortlist by weighted score, best first; a criterion
// not yet scored counts as 0. Ties keep the order of the names.
func Ranking(p Procurement) []Ranked {
	out := make([]Ranked, len(p.Shortlist))
	for i, s := range p.Shortlist {
		r := Ranked{Solution: s}
		for _, c := range p.Criteria {
			if v, ok := p.Scores[ScoreKey{s.ItemID, c.ID}]; ok {
				r.Hundredths += v * c.Weight
				r.Scored++
			}
		}
		out[i] = r
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Hundredths > out[j].Hundredths })
	for i := range out {
		if i > 0 && out[i].Hundredths == out[i-1].Hundredths {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}
