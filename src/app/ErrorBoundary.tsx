// Whatever a record holds, a rendering bug must not take the whole app down: show what went wrong in
// place of the part that failed, and keep the rest working.
import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode; what: string }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (this.state.error)
      return (
        <p role="alert" className="error" data-testid="render-error">
          Cannot show {this.props.what}: {this.state.error.message}
        </p>
      );
    return this.props.children;
  }
}
