import { LabIcon } from '@jupyterlab/ui-components';

/**
 * A checklist with a rising bar: the tracker. `jp-icon3` lets JupyterLab recolour the strokes
 * and fills for light and dark themes.
 */
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 4.5h2.5V7H3zM3 10.75h2.5v2.5H3zM3 17h2.5v2.5H3z"/>
    <path d="M8 5h7v1.5H8zM8 11.25h5v1.5H8zM8 17.5h3v1.5H8z"/>
    <path d="M17 14h2v7h-2zM20 9h2v12h-2zM14 17h2v4h-2z"/>
  </g>
  <path class="jp-icon-brand0" fill="none" stroke="#1976d2" stroke-width="1.6"
    stroke-linecap="round" stroke-linejoin="round" d="M2.6 5.6l1.1 1.1 2.2-2.6"/>
</svg>`;

export const trackerIcon = new LabIcon({
  name: 'jupyterlab-course-tracker:progress',
  svgstr
});
