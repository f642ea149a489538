//! What every handler can reach.

use inbox_app::App;

/// The router's state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases.
    pub app: App,
}
