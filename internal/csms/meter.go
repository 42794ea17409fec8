package csms

import (
	"math"
	"strconv"
	"strings"

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
		if t, ok := ShiftDecimal(value, 3); ok {
			if w, err := strconv.ParseFloat(t, 64); err == nil {
				return w, true
			}
		}
		return v * 1000, true
	}
	return 0, false
}

// roundWh rounds an energy reading to whole Wh, halves away from zero.
func roundWh(v float64) int64 { return int64(math.Round(v)) }

// ShiftDecimal multiplies a decimal number written in text by 10^n
// exactly, by moving its decimal point: a meter's "16.345" kWh is
// "16345" Wh, not the 16344.999999999998 a float multiplication gives.
// Text that is not a plain decimal (an exponent, say) is returned with
// ok=false.
func ShiftDecimal(s string, n int) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	point := len(intPart) + n // position of the decimal point in digits
	switch {
	case point <= 0:
		digits = strings.Repeat("0", 1-point) + digits
		point = 1
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	ip, fp := strings.TrimLeft(digits[:point], "0"), strings.TrimRight(digits[point:], "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}
