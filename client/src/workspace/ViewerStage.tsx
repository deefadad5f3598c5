import type { ReactNode, RefObject } from 'react';
import { AnnotationStage, type RemoteCursor } from '../annotate/AnnotationStage.js';
import type { BoxStatus } from '../annotate/box-style.js';
import type { ColorOf } from '../annotate/colors.js';
import { LabelPicker } from '../annotate/LabelPicker.js';
import type { AnnotationSnapshot, YAnnotationStore } from '../annotate/store.js';
import { SourceOutlines } from '../blind/FusionViews.js';
import type { ViewerController, ViewerState } from '../viewer/controller.js';
import { ImageCanvas } from '../viewer/ImageCanvas.js';
import { type ImageBox, type ImagePoint, type Viewport, boxToScreen } from '../viewer/transform.js';
import type { ImageState } from '../viewer/use-scan-image.js';
import type { useSelection } from './use-selection.js';

const PICKER_WIDTH = 280;
const PICKER_HEIGHT = 380;

/** Beside the box, inside the viewer. */
function pickerAnchor(vp: Viewport, box: ImageBox) {
  const r = boxToScreen(vp, box);
  const x = Math.min(Math.max(8, r.x + r.width + 8), Math.max(8, vp.screen.width - PICKER_WIDTH));
  const y = Math.min(Math.max(8, r.y), Math.max(8, vp.screen.height - PICKER_HEIGHT));
  return { x, y };
}

/**
 * The film and everything drawn on it: the canvas, the boxes and cursors, the fused sources of
 * the selected box, the label picker and the notice. Its data attributes are the e2e specs'
 * and the benchmark's view of the viewer (docs/UI.md).
 */
export function ViewerStage({
  stageRef,
  controller,
  viewer,
  imageState,
  rows,
  columns,
  onFirstPaint,
  store,
  snap,
  selection,
  readOnly,
  drawBlocked,
  cursors,
  nameOf,
  colorOf,
  statusOf,
  hiddenAuthors,
  overlay,
  onCursor,
}: {
  stageRef: RefObject<HTMLDivElement | null>;
  controller: ViewerController;
  viewer: ViewerState;
  imageState: ImageState;
  rows: number;
  columns: number;
  onFirstPaint: () => void;
  store: YAnnotationStore | undefined;
  snap: AnnotationSnapshot;
  selection: ReturnType<typeof useSelection>;
  readOnly: boolean;
  drawBlocked: string | undefined;
  cursors: readonly RemoteCursor[];
  nameOf: (userId: string) => string;
  colorOf: ColorOf;
  statusOf: (findingId: string) => BoxStatus;
  /** Members whose boxes the legend hides on the image. */
  hiddenAuthors: ReadonlySet<string>;
  /** Drawn over the film's corner (the legend). */
  overlay?: ReactNode;
  onCursor: (p: ImagePoint | null) => void;
}) {
  const image = imageState.kind === 'loading' ? undefined : imageState.image;
  const { picker, selectedId } = selection;
  const vp: Viewport = { view: viewer.view, image: viewer.image, screen: viewer.screen };
  const pickedFinding =
    picker?.kind === 'finding' ? snap.findings.find((f) => f.id === picker.id) : undefined;
  const pickerBox = picker?.kind === 'draft' ? picker.box : pickedFinding?.box;
  return (
    <div
      ref={stageRef}
      className="viewer"
      data-testid="viewer"
      data-image-state={imageState.kind}
      data-findings-count={snap.findings.length}
      data-globals={snap.globals.map((g) => g.label).join('|')}
      data-read-only={readOnly}
      data-view={JSON.stringify({
        ...viewer.view,
        imageWidth: viewer.image.width,
        imageHeight: viewer.image.height,
        screenWidth: viewer.screen.width,
        screenHeight: viewer.screen.height,
      })}
    >
      {image && <ImageCanvas controller={controller} image={image} onFirstPaint={onFirstPaint} />}
      {image && store && (
        <AnnotationStage
          controller={controller}
          viewer={viewer}
          findings={snap.findings.filter((f) => !hiddenAuthors.has(f.createdBy))}
          selectedId={selectedId}
          draft={picker?.kind === 'draft' ? picker.box : undefined}
          readOnly={readOnly}
          drawBlocked={drawBlocked}
          cursors={cursors}
          authorName={nameOf}
          colorOf={colorOf}
          statusOf={statusOf}
          onSelect={selection.setSelectedId}
          onDraftDrawn={(box) => selection.setPicker({ kind: 'draft', box })}
          onBoxChange={(id, box) => store.setBox(id, box)}
          onEditLabels={selection.editLabels}
          onCursor={onCursor}
          onNotice={selection.setNotice}
        />
      )}
      {image && (
        <SourceOutlines
          finding={snap.findings.find((f) => f.id === selectedId)}
          viewport={vp}
          nameOf={nameOf}
        />
      )}
      {overlay}
      {imageState.kind === 'loading' && <div className="viewer-message">Loading image…</div>}
      {imageState.kind === 'placeholder' && (
        <div className="viewer-hint" data-testid="image-placeholder">
          {imageState.why} – annotating on a blank {columns} × {rows} canvas.
        </div>
      )}
      {picker && pickerBox && (
        <LabelPicker
          key={picker.kind === 'finding' ? picker.id : 'draft'}
          title={picker.kind === 'draft' ? 'Label the new box' : 'Labels of the box'}
          selected={pickedFinding?.labels ?? []}
          anchor={pickerAnchor(vp, pickerBox)}
          onToggle={selection.toggleLabel}
          onClose={() => selection.setPicker(undefined)}
        />
      )}
      {selection.notice && (
        <div className="toast" role="status" data-testid="notice">
          {selection.notice}
        </div>
      )}
    </div>
  );
}
