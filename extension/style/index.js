import './base.css';
import './cohort.css';
