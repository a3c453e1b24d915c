// SPDX-License-Identifier: GPL-2.0-or-later
//! `[[menu]]`, `[[collect]]`, `[[route]]` and `[[calendar]]` in
//! hotline.toml. (Interface fixed; the body is being written.)

/// Every IVR node and calendar, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IvrConfig {
    pub menus: Vec<MenuConfig>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MenuConfig {
    pub name: String,
}

impl IvrConfig {
    /// A menu, collect or route step of this name exists.
    pub fn has_node(&self, name: &str) -> bool {
        self.menus.iter().any(|m| m.name == name)
    }

    /// Any prompt is a text prompt (needs espeak-ng).
    pub fn texts(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
