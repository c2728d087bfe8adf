package order

import "ccgtracker/internal/money"

// Cost is what an item, or the whole order, costs. Each figure is computed
// exactly and rounded half away from zero to the penny once (DOMAIN.md §2).
type Cost struct {
	OneOff  money.Amount // charged once
	Monthly money.Amount // recurring, per month
	Annual  money.Amount // recurring, per year
	Total   money.Amount // one-off plus recurring over the maximum term
}

// ItemCost is the cost of one item: quantity × unit price summed over its
// recipients, then spread by the price's time unit.
func ItemCost(it Item, maximumTerm int) Cost {
	var units int64
	for _, r := range it.Recipients {
		units += int64(r.Quantity)
	}
	base := it.UnitPrice.Times(units) // exact: per month, per year, or once
	var c Cost
	switch it.TimeUnit {
	case "month":
		c.Monthly = base.RoundPenny()
		c.Annual = base.Times(12).RoundPenny()
		c.Total = base.Times(int64(maximumTerm)).RoundPenny()
	case "year":
		c.Annual = base.RoundPenny()
		c.Monthly = base.DivRound(12)
		c.Total = base.Times(int64(maximumTerm)).DivRound(12)
	default:
		c.OneOff = base.RoundPenny()
		c.Total = c.OneOff
	}
	return c
}

// OrderCost is the cost of each item and of the whole order, the sum of
// the item lines as shown.
func OrderCost(o Order) ([]Cost, Cost) {
	lines := make([]Cost, len(o.Items))
	var sum Cost
	for i, it := range o.Items {
		c := ItemCost(it, o.MaximumTerm)
		lines[i] = c
		sum.OneOff += c.OneOff
		sum.Monthly += c.Monthly
		sum.Annual += c.Annual
		sum.Total += c.Total
	}
	return lines, sum
}
