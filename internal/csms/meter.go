package csms

import (
	"math"
	"strconv"

	"github.com/chargestar/chargestar/internal/model"
)

// Measurands and units of interest, in the 1.6 vocabulary.
const (
	measurandEnergyImport = "Energy.Active.Import.Register"
	measurandPowerImport  = "Power.Active.Import"
	measurandSoC          = "SoC"
)

// ExtractReadings fills a meter value's EnergyWh, PowerW and SoC from its
// samples. The energy is the import register in Wh: a sample without a
// measurand is that register (the spec's default); kWh is converted. A
// sample for the whole station (no phase) wins over per-phase samples,
// which are summed when they are all there is. Signed samples are skipped:
// their value is a signature blob, not a number.
func ExtractReadings(mv *model.MeterValue) {
	var energyTotal, powerTotal, energyPhases, powerPhases float64
	var haveEnergy, havePower, haveEnergyPh, havePowerPh bool
	for _, sv := range mv.Samples {
		if sv.Format == "SignedData" {
			continue
		}
		measurand := sv.Measurand
		if measurand == "" {
			measurand = measurandEnergyImport
		}
		if sv.Location != "" && sv.Location != "Outlet" && sv.Location != "Inlet" {
			continue // Body, Cable, EV: not the meter we bill from
		}
		switch measurand {
		case measurandEnergyImport:
			v, ok := toBase(sv.Value, sv.Unit, "Wh", "kWh")
			if !ok {
				continue
			}
			if sv.Phase == "" || sv.Phase == "N" {
				energyTotal, haveEnergy = v, true
			} else {
				energyPhases += v
				haveEnergyPh = true
			}
		case measurandPowerImport:
			v, ok := toBase(sv.Value, sv.Unit, "W", "kW")
			if !ok {
				continue
			}
			if sv.Phase == "" {
				powerTotal, havePower = v, true
			} else {
				powerPhases += v
				havePowerPh = true
			}
		case measurandSoC:
			if v, err := strconv.ParseFloat(sv.Value, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				mv.SoC = &v
			}
		}
	}
	switch {
	case haveEnergy:
		mv.EnergyWh = &energyTotal
	case haveEnergyPh:
		mv.EnergyWh = &energyPhases
	}
	switch {
	case havePower:
		mv.PowerW = &powerTotal
	case havePowerPh:
		mv.PowerW = &powerPhases
	}
	if len(mv.Samples) > 0 {
		mv.Context = mv.Samples[0].Context
	}
}

// toBase parses value in unit (base or kilo) and returns it in base units.
// An absent unit is the base unit, the spec's default.
func toBase(value, unit, base, kilo string) (float64, bool) {
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	switch unit {
	case "", base:
		return v, true
	case kilo:
		return v * 1000, true
	}
	return 0, false
}

// roundWh rounds an energy reading to whole Wh, halves away from zero.
func roundWh(v float64) int64 { return int64(math.Round(v)) }
