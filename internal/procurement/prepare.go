package procurement

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/org"
)

// MaxCriteria is the most evaluation criteria a procurement may have: more
// rows than a person can weigh against each other sensibly, and a bound on
// the form.
const MaxCriteria = 10

// TotalWeight is what the weights of the criteria add up to.
const TotalWeight = 100

// PrepareInput is the Prepare form as typed.
type PrepareInput struct {
	Procedure Procedure
	Criteria  []CriterionInput
}

// CriterionInput is one row of the criteria as typed. Row numbers the
// form's row (from 1), so that a problem is shown beside the right field;
// rows left blank are ignored.
type CriterionInput struct {
	Row    int
	Name   string
	Weight string
}

// CheckPrepare validates the Prepare form and returns the criteria it
// describes, or every problem keyed by form field.
func CheckPrepare(in PrepareInput) ([]Criterion, map[string]string) {
	errs := map[string]string{}
	if !in.Procedure.valid() {
		errs[FieldProcedure] = "Select the procedure"
	}
	var out []Criterion
	seen := map[string]bool{}
	sum, weightsOK := 0, true
	for _, c := range in.Criteria {
		name, weight := strings.TrimSpace(c.Name), strings.TrimSpace(c.Weight)
		if name == "" && weight == "" {
			continue
		}
		label := fmt.Sprintf("criterion %d", c.Row)
		switch {
		case name == "":
			errs[FieldCriterionName(c.Row)] = "Enter the name of " + label
		case len([]rune(name)) > maxNameLength:
			errs[FieldCriterionName(c.Row)] = fmt.Sprintf("The name of %s must be %d characters or fewer", label, maxNameLength)
		case seen[strings.ToLower(name)]:
			errs[FieldCriterionName(c.Row)] = fmt.Sprintf("%q is already a criterion: give each criterion a different name", name)
		default:
			label = name
		}
		seen[strings.ToLower(name)] = true
		w, err := strconv.Atoi(weight)
		switch {
		case weight == "":
			errs[FieldCriterionWeight(c.Row)] = "Enter the weight of " + label
			weightsOK = false
		case err != nil:
			errs[FieldCriterionWeight(c.Row)] = fmt.Sprintf("The weight of %s must be a whole number, like 25", label)
			weightsOK = false
		case w < 1 || w > TotalWeight:
			errs[FieldCriterionWeight(c.Row)] = fmt.Sprintf("The weight of %s must be between 1 and %d", label, TotalWeight)
			weightsOK = false
		default:
			sum += w
		}
		out = append(out, Criterion{Name: name, Weight: w})
	}
	switch {
	case len(out) == 0:
		errs[FieldCriteria] = "Add at least one evaluation criterion with its weight"
	case len(out) > MaxCriteria:
		errs[FieldCriteria] = fmt.Sprintf("Use at most %d criteria", MaxCriteria)
	case weightsOK && sum != TotalWeight:
		// Only once every weight is a number: a sum of half the rows helps nobody.
		errs[FieldCriteria] = fmt.Sprintf("The weights must add up to %d: they add up to %d", TotalWeight, sum)
	}
	return out, errs
}

// Prepare saves the procedure and the weighted evaluation criteria and
// completes the Prepare step. It may be saved again until Review Catalogue
// Solutions is completed. A Direct Award marks Evaluate skipped; another
// procedure brings it back.
func (s *Store) Prepare(ctx context.Context, a org.Actor, id int64, version int, in PrepareInput) error {
	now := s.now()
	criteria, errs := CheckPrepare(in)
	return s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepPrepare); err != nil {
			return err
		}
		if len(errs) > 0 {
			return invalid("The procurement could not be prepared", errs)
		}
		if _, err := tx.Exec(ctx, `UPDATE procurements SET procedure = $2 WHERE id = $1`, id, in.Procedure); err != nil {
			return fmt.Errorf("prepare procurement %d: %w", id, err)
		}
		if err := saveCriteria(ctx, tx, p, criteria); err != nil {
			return err
		}
		if err := setStep(ctx, tx, now, a.ID, id, StepPrepare, Completed); err != nil {
			return err
		}
		// A Direct Award has nothing to evaluate; changing away from one
		// brings the step back.
		switch {
		case in.Procedure == DirectAward:
			if err := setStep(ctx, tx, now, a.ID, id, StepEvaluate, Skipped); err != nil {
				return err
			}
		case p.State(StepEvaluate).Status == Skipped:
			if err := setStep(ctx, tx, now, a.ID, id, StepEvaluate, NotStarted); err != nil {
				return err
			}
		}
		return record(ctx, tx, now, a.ID, "procurement.prepare", id,
			prepareView(p.Procedure, p.Criteria), prepareView(in.Procedure, criteria))
	})
}

// saveCriteria replaces the criteria with the new list, keeping the row
// (and so the scores) of every criterion whose name stays.
func saveCriteria(ctx context.Context, tx pgx.Tx, p Procurement, criteria []Criterion) error {
	names := make([]string, len(criteria))
	for i, c := range criteria {
		names[i] = c.Name
	}
	if _, err := tx.Exec(ctx, `DELETE FROM procurement_criteria WHERE procurement_id = $1 AND NOT name = ANY($2)`, p.ID, names); err != nil {
		return fmt.Errorf("criteria of procurement %d: %w", p.ID, err)
	}
	for i, c := range criteria {
		if _, err := tx.Exec(ctx, `
			INSERT INTO procurement_criteria (procurement_id, name, weight, position) VALUES ($1, $2, $3, $4)
			ON CONFLICT (procurement_id, name) DO UPDATE SET weight = EXCLUDED.weight, position = EXCLUDED.position`,
			p.ID, c.Name, c.Weight, i+1); err != nil {
			return fmt.Errorf("criteria of procurement %d: %w", p.ID, err)
		}
	}
	return nil
}

func prepareView(procedure Procedure, criteria []Criterion) map[string]any {
	cs := make([]map[string]any, len(criteria))
	for i, c := range criteria {
		cs[i] = map[string]any{"name": c.Name, "weight": c.Weight}
	}
	return map[string]any{"procedure": procedure, "criteria": cs}
}
