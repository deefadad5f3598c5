import type { DecodedImage } from './dicom.js';
import { type Preset, type PresetId, type VoiTransform, dragWindow, presets } from './pipeline.js';
import {
  type ScreenPoint,
  type Size,
  type ViewState,
  type Viewport,
  fitView,
  flip,
  panBy,
  screenPoint,
  zoomAt,
} from './transform.js';

export type Tool = 'draw' | 'select' | 'wl' | 'pan';

export interface ViewerState {
  readonly image: Size;
  readonly screen: Size;
  readonly view: ViewState;
  readonly voi: VoiTransform;
  readonly presetId: PresetId | 'custom';
  readonly invert: boolean;
  readonly tool: Tool;
  /** The view follows the viewer's size while the user has not zoomed or panned. */
  readonly fitted: boolean;
}

const PRESET_KEYS: readonly PresetId[] = ['default', 'lung', 'mediastinum', 'bone'];

/**
 * The viewer's state (view transform, window, invert, tool) as a tiny external store: the
 * canvas redraws from it directly on animation frames, React panels subscribe to it, and the
 * hotkeys and toolbar call its commands. Window/level drags never go through React state.
 */
export class ViewerController {
  private state: ViewerState;
  private readonly listeners = new Set<() => void>();
  private presetList: Preset[] = [];
  private valueRange = 4096;

  constructor() {
    const image = { width: 1, height: 1 };
    const screen = { width: 1, height: 1 };
    this.state = {
      image,
      screen,
      view: fitView(image, screen),
      voi: { kind: 'window', center: 0.5, width: 1, fn: 'LINEAR' },
      presetId: 'default',
      invert: false,
      tool: 'draw',
      fitted: true,
    };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ViewerState => this.state;

  get presets(): readonly Preset[] {
    return this.presetList;
  }

  viewport(): Viewport {
    return { view: this.state.view, image: this.state.image, screen: this.state.screen };
  }

  private set(patch: Partial<ViewerState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  /** A new image: presets are recomputed from its histogram and the view fits it. */
  setImage(decoded: DecodedImage): void {
    this.presetList = presets(decoded.module, decoded.histogram);
    const m = decoded.module;
    this.valueRange = Math.abs((decoded.dataMax - decoded.dataMin) * m.rescaleSlope) || 1;
    const image = { width: m.columns, height: m.rows };
    const first = this.presetList[0];
    this.set({
      image,
      view: fitView(image, this.state.screen),
      voi: first?.voi ?? this.state.voi,
      presetId: 'default',
      invert: false,
      fitted: true,
    });
  }

  /**
   * The full image replacing its preview (same size): the view stays where the reader put it;
   * presets are recomputed from the full histogram, and a preset still in use is re-applied
   * from it (a window the reader dragged or typed stays as it is).
   */
  upgradeImage(decoded: DecodedImage): void {
    this.presetList = presets(decoded.module, decoded.histogram);
    const m = decoded.module;
    this.valueRange = Math.abs((decoded.dataMax - decoded.dataMin) * m.rescaleSlope) || 1;
    const id = this.state.presetId;
    const preset = id === 'custom' ? undefined : this.presetList.find((p) => p.id === id);
    if (preset) this.set({ voi: preset.voi });
  }

  setScreen(screen: Size): void {
    if (screen.width === this.state.screen.width && screen.height === this.state.screen.height) return;
    const view = this.state.fitted ? fitView(this.state.image, screen, this.state.view) : this.state.view;
    this.set({ screen, view });
  }

  setTool(tool: Tool): void {
    this.set({ tool });
  }

  fitToView(): void {
    this.set({ view: fitView(this.state.image, this.state.screen, this.state.view), fitted: true });
  }

  oneToOne(): void {
    const centre = screenPoint(this.state.screen.width / 2, this.state.screen.height / 2);
    this.set({ view: zoomAt(this.viewport(), centre, 1), fitted: false });
  }

  zoomBy(factor: number, anchor?: ScreenPoint): void {
    const at = anchor ?? screenPoint(this.state.screen.width / 2, this.state.screen.height / 2);
    this.set({ view: zoomAt(this.viewport(), at, this.state.view.scale * factor), fitted: false });
  }

  pan(dx: number, dy: number): void {
    this.set({ view: panBy(this.state.view, dx, dy), fitted: false });
  }

  flip(axis: 'h' | 'v'): void {
    this.set({ view: flip(this.viewport(), axis) });
  }

  toggleInvert(): void {
    this.set({ invert: !this.state.invert });
  }

  /** 1-based preset number as on the keyboard (1 file/auto, 2 lung, 3 mediastinum, 4 bone). */
  applyPresetNumber(n: number): void {
    const id = PRESET_KEYS[n - 1];
    if (id) this.applyPreset(id);
  }

  applyPreset(id: PresetId): void {
    const preset = this.presetList.find((p) => p.id === id);
    if (preset) this.set({ voi: preset.voi, presetId: id });
  }

  dragWindow(dx: number, dy: number): void {
    const auto = this.presetList.find((p) => p.id === 'auto')?.voi;
    const fallback = auto?.kind === 'window' ? auto : { center: 0, width: this.valueRange };
    this.set({ voi: dragWindow(this.state.voi, dx, dy, this.valueRange, fallback), presetId: 'custom' });
  }

  reset(): void {
    const first = this.presetList[0];
    this.set({
      view: fitView(this.state.image, this.state.screen),
      voi: first?.voi ?? this.state.voi,
      presetId: 'default',
      invert: false,
      fitted: true,
    });
  }
}
