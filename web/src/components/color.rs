//! Colour helpers for the recolour controls.

/// Parses `#rrggbb` or `#rrggbbaa` into sRGB components in 0..1.
pub fn parse_hex(s: &str) -> Option<[f32; 4]> {
    let hex = s.strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| {
        u8::from_str_radix(&hex[i..i + 2], 16)
            .ok()
            .map(|b| f32::from(b) / 255.0)
    };
    let a = if hex.len() == 8 { byte(6)? } else { 1.0 };
    Some([byte(0)?, byte(2)?, byte(4)?, a])
}

/// Preset colours offered for the selected element: (label, hex).
pub const SWATCHES: &[(&str, &str)] = &[
    ("Alarm", "#e53935"),
    ("Warning", "#ffb300"),
    ("OK", "#43a047"),
    ("Info", "#1e88e5"),
];
